/**
 * `WWW-Authenticate` parsing (RFC 9110 §11.6.1, docs/credential-rules.md R3.2), pure and total:
 * several challenges per header and several headers, quoted strings with commas and `\` escapes,
 * case-insensitive scheme and parameter names. Malformed input yields what could be read, never a throw.
 */

/** One challenge: the scheme in lower case and its parameters keyed by lower-case name. */
export type AuthChallenge = {
  scheme: string;
  params: Record<string, string>;
  /** The token68 form (`Negotiate abc==`), rarely used by registries. */
  token68?: string;
};

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

/** Parses every challenge of one or more `WWW-Authenticate` header values, in order. */
export function parseWwwAuthenticate(values: string | readonly string[] | undefined | null): AuthChallenge[] {
  if (values === undefined || values === null)
    return [];
  const list = typeof values === `string` ? [values] : values;
  return list.flatMap(value => parseOneHeader(value));
}

function parseOneHeader(input: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let pos = 0;
  const skipSpaces = () => {
    while (pos < input.length && (input[pos] === ` ` || input[pos] === `\t`))
      pos++;
  };
  const skipSeparators = () => {
    while (pos < input.length && (input[pos] === ` ` || input[pos] === `\t` || input[pos] === `,`))
      pos++;
  };
  const readToken = (): string => {
    const start = pos;
    while (pos < input.length && TOKEN_CHAR.test(input[pos]!))
      pos++;
    return input.slice(start, pos);
  };
  const readQuoted = (): string => {
    // Called on the opening quote; an unterminated string runs to the end of the header.
    pos++;
    let out = ``;
    while (pos < input.length && input[pos] !== `"`) {
      if (input[pos] === `\\` && pos + 1 < input.length)
        pos++;
      out += input[pos];
      pos++;
    }
    pos++;
    return out;
  };
  /** Looks ahead: is the text at `pos` a `name = value` parameter (rather than a new challenge's scheme)? */
  const atParameter = (): boolean => {
    let probe = pos;
    while (probe < input.length && TOKEN_CHAR.test(input[probe]!))
      probe++;
    if (probe === pos)
      return false;
    while (probe < input.length && (input[probe] === ` ` || input[probe] === `\t`))
      probe++;
    if (input[probe] !== `=`)
      return false;
    // `abc==` or `abc=` at the end of a challenge is token68 padding, not an empty parameter.
    const after = input[probe + 1];
    return !(after === `=` || after === undefined || after === `,`);
  };

  let current: AuthChallenge | null = null;
  while (pos < input.length) {
    skipSeparators();
    if (pos >= input.length)
      break;
    if (current !== null && atParameter()) {
      const name = readToken().toLowerCase();
      skipSpaces();
      pos++; // `=`
      skipSpaces();
      const value = input[pos] === `"` ? readQuoted() : readToken();
      if (!(name in current.params))
        current.params[name] = value;
      continue;
    }
    const scheme = readToken();
    if (scheme === ``) {
      // Garbage character (stray quote, `;`, …): skip it and resynchronise at the next separator.
      if (input[pos] === `"`)
        readQuoted();
      else
        pos++;
      continue;
    }
    current = {scheme: scheme.toLowerCase(), params: {}};
    challenges.push(current);
    skipSpaces();
    // token68 form: `Scheme abc123==` with no `name=` after it.
    if (pos < input.length && input[pos] !== `,` && !atParameter() && TOKEN68_CHAR.test(input[pos]!)) {
      const start = pos;
      while (pos < input.length && TOKEN68_CHAR.test(input[pos]!))
        pos++;
      while (pos < input.length && input[pos] === `=`)
        pos++;
      current.token68 = input.slice(start, pos);
    }
  }
  return challenges;
}

/** The challenge a registry client should answer: Bearer before Basic (as go-containerregistry's ping does); others are unsupported. */
export function preferredChallenge(challenges: readonly AuthChallenge[]): AuthChallenge | undefined {
  return challenges.find(challenge => challenge.scheme === `bearer` && challenge.params.realm !== undefined && challenge.params.realm !== ``)
    ?? challenges.find(challenge => challenge.scheme === `basic`);
}

/** Splits a Bearer challenge's `scope` parameter (space-separated per the token spec) into scopes. */
export function challengeScopes(challenge: AuthChallenge): string[] {
  return (challenge.params.scope ?? ``).split(` `).filter(scope => scope !== ``);
}
