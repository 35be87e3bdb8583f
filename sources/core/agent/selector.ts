/**
 * Label selectors matched locally (the agent keeps namespaces in memory and decides which policies select
 * a namespace without asking the server again): equality (`k=v`, `k==v`, `k!=v`), existence (`k`, `!k`) and
 * set (`k in (a,b)`, `k notin (a,b)`) requirements joined by commas, as the API server reads them.
 */

/** A compiled selector; throws for text the API server would refuse too. */
export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

/** Splits at the commas that are not inside parentheses. */
function requirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = ``;
  for (const char of text) {
    if (char === `(`)
      depth++;
    if (char === `)`)
      depth--;
    if (char === `,` && depth === 0) {
      parts.push(current);
      current = ``;
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map(part => part.trim()).filter(part => part !== ``);
}

/** Compiles a selector; an empty selector matches everything. */
export function compileSelector(text: string): LabelMatcher {
  const tests = requirements(text).map(requirement => {
    let match = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(requirement);
    if (match) {
      const [, key, operator, list] = match;
      const values = new Set(list!.split(`,`).map(value => value.trim()).filter(value => value !== ``));
      return operator === `in`
        ? (labels: Record<string, string>) => key! in labels && values.has(labels[key!]!)
        : (labels: Record<string, string>) => !(key! in labels) || !values.has(labels[key!]!);
    }
    match = /^([^\s!=]+)\s*(==|=|!=)\s*([^\s,]*)$/.exec(requirement);
    if (match) {
      const [, key, operator, value] = match;
      return operator === `!=`
        ? (labels: Record<string, string>) => labels[key!] !== value
        : (labels: Record<string, string>) => labels[key!] === value;
    }
    match = /^(!?)([^\s!=(),]+)$/.exec(requirement);
    if (match) {
      const [, not, key] = match;
      return not === `!` ? (labels: Record<string, string>) => !(key! in labels) : (labels: Record<string, string>) => key! in labels;
    }
    throw new Error(`unable to parse requirement: "${requirement}"`);
  });
  return labels => tests.every(test => test(labels ?? {}));
}
