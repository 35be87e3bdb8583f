/**
 * Which namespaces a fan-out command acts on, resolved over the `ClusterSession` port.
 *
 * Rules:
 * - `current` (`-n NS`, else the context's namespace) is the one namespace the user named: it is not
 *   read (no request) and therefore not checked for the ignore annotation; only `--exclude-namespaces` applies.
 * - `all` (`-A`) is one cluster-wide namespace list; `selector` (`--namespace-selector`) the same list
 *   with a label selector; `list` (`--namespaces a,b`) keeps the given order and checks existence with
 *   one namespace list (falling back to one GET per name when listing namespaces is forbidden; when even
 *   that is forbidden, the names are used unverified).
 * - In every scope but `current`, namespaces annotated `pullsecret.kubectl.io/ignore: "true"` and
 *   namespaces being deleted (`Terminating`) are skipped with a reason; `-n NS` acts on them anyway.
 * - `--exclude-namespaces` globs (`*`, `?`) apply to every scope.
 */
import type {ClusterSession, KubeObject} from './ports.ts';
import {IGNORE_ANNOTATION} from './secrets/metadata.ts';
import {isApiError} from './apiError.ts';

/** Which namespaces a fan-out command acts on. `current` means `-n`, else the context's namespace. */
export type NamespaceScope =
  | {kind: `current`; exclude: string[]}
  | {kind: `all`; exclude: string[]}
  | {kind: `list`; names: string[]; exclude: string[]}
  | {kind: `selector`; selector: string; exclude: string[]};


/** Why a namespace was left out. */
export type SkipCause = `excluded` | `ignored` | `missing` | `terminating`;

/** A namespace left out of the scope, with a one-line reason for the user. */
export type SkippedNamespace = {namespace: string; reason: string; cause: SkipCause};

/** The resolved scope: namespaces to act on (sorted for `all`/`selector`, as given for `list`) and the ones left out. */
export type ResolvedScope = {namespaces: string[]; skipped: SkippedNamespace[]};

/** Resolves a scope to namespace names; API errors other than the documented fallbacks propagate (a 403 names the missing permission). */
export async function resolveNamespaces(session: ClusterSession, scope: NamespaceScope): Promise<ResolvedScope> {
  const skipped: SkippedNamespace[] = [];
  const excluded = (name: string): boolean => {
    const pattern = scope.exclude.find(glob => matchesGlob(glob, name));
    if (pattern === undefined)
      return false;
    skipped.push({namespace: name, reason: `excluded by --exclude-namespaces "${pattern}"`, cause: `excluded`});
    return true;
  };
  const usable = (namespace: KubeObject): boolean => {
    const name = namespace.metadata.name;
    if (excluded(name))
      return false;
    if (namespace.metadata.annotations?.[IGNORE_ANNOTATION] === `true`) {
      skipped.push({namespace: name, reason: `annotated ${IGNORE_ANNOTATION}=true (name it with -n to act on it anyway)`, cause: `ignored`});
      return false;
    }
    if ((namespace as {status?: {phase?: string}}).status?.phase === `Terminating`) {
      skipped.push({namespace: name, reason: `the namespace is being deleted`, cause: `terminating`});
      return false;
    }
    return true;
  };

  switch (scope.kind) {
    case `current`: {
      const name = session.namespace;
      return {namespaces: excluded(name) ? [] : [name], skipped};
    }
    case `all`:
    case `selector`: {
      const listed = await session.list(`namespaces`, scope.kind === `selector` ? {labelSelector: scope.selector} : {});
      const namespaces = listed.filter(usable).map(namespace => namespace.metadata.name).sort();
      return {namespaces, skipped};
    }
    case `list`: {
      const names = [...new Set(scope.names)];
      const known = await lookUpNamespaces(session, names);
      const namespaces: string[] = [];
      for (const name of names) {
        const namespace = known.get(name);
        if (namespace === undefined) {
          if (!excluded(name))
            namespaces.push(name);
        } else if (namespace === null) {
          if (!excluded(name))
            skipped.push({namespace: name, reason: `namespace "${name}" not found`, cause: `missing`});
        } else if (usable(namespace)) {
          namespaces.push(name);
        }
      }
      return {namespaces, skipped};
    }
    default:
      throw new Error(`Assertion failed: unknown namespace scope ${JSON.stringify(scope satisfies never)}`);
  }
}

/** The warning for a `--namespace-selector` that matches no namespace at all, or undefined. */
export function emptySelectorWarning(scope: NamespaceScope, resolved: ResolvedScope): string | undefined {
  return scope.kind === `selector` && resolved.namespaces.length === 0 && resolved.skipped.length === 0
    ? `--namespace-selector ${JSON.stringify(scope.selector)} matches no namespace`
    : undefined;
}

/**
 * For each name: the Namespace object, `null` when it does not exist, or no entry when it could not be
 * checked (forbidden). One list when permitted, else one GET per name.
 */
async function lookUpNamespaces(session: ClusterSession, names: string[]): Promise<Map<string, KubeObject | null>> {
  const found = new Map<string, KubeObject | null>();
  try {
    const all = new Map((await session.list(`namespaces`)).map(namespace => [namespace.metadata.name, namespace]));
    for (const name of names)
      found.set(name, all.get(name) ?? null);
    return found;
  } catch (error) {
    if (!isApiError(error, 403))
      throw error;
  }
  for (const name of names) {
    try {
      found.set(name, await session.get(`namespaces`, undefined, name));
    } catch (error) {
      if (!isApiError(error, 403))
        throw error;
    }
  }
  return found;
}

/**
 * Shell-style glob over a whole name: `*` any run of characters, `?` one character, everything else literal.
 * The two-pointer match that remembers only the last `*`: at most length(glob) × length(name) steps and no
 * regular expression, so `*a*a*a…b` against a long name cannot backtrack exponentially.
 */
export function matchesGlob(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && (glob[g] === `?` || (glob[g] !== `*` && glob[g] === name[n]))) {
      g++;
      n++;
    } else if (g < glob.length && glob[g] === `*`) {
      star = g++;
      resume = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === `*`)
    g++;
  return g === glob.length;
}
