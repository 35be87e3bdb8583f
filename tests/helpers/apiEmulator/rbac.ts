/**
 * Authentication (bearer tokens, client certificates) and RBAC-style authorization with
 * per-user rules. Denials are worded like the real RBAC authorizer's Forbidden messages.
 */
import crypto from 'node:crypto';

/** One permission rule; omitted `namespaces` means cluster-wide, omitted `apiGroups` means any group. */
export type RbacRule = {verbs: string[]; resources: string[]; namespaces?: string[]; apiGroups?: string[]};

export type User = {name: string; groups: string[]; rules: RbacRule[]};

export type Attributes = {verb: string; group: string; resource: string; namespace?: string; name?: string; subresource?: string};

/** Users, their bearer tokens and rules. */
export class Authorizer {
  private readonly byToken = new Map<string, User>();
  private readonly byName = new Map<string, User>();

  /** Adds (or replaces) a user; returns a fresh bearer token for it. */
  addUser(name: string, rules: RbacRule[], groups: string[] = [`system:authenticated`]): string {
    const user: User = {name, groups, rules};
    const existing = this.byName.get(name);
    if (existing) {
      for (const [token, u] of this.byToken) {
        if (u === existing)
          this.byToken.set(token, user);
      }
    }
    this.byName.set(name, user);
    const token = `${name.replace(/[^a-z0-9]/gi, ``).slice(0, 16) || `user`}-${crypto.randomBytes(16).toString(`hex`)}`;
    this.byToken.set(token, user);
    return token;
  }

  userForToken(token: string): User | undefined {
    return this.byToken.get(token);
  }

  user(name: string): User | undefined {
    return this.byName.get(name);
  }

  /** Users known by name (for kubeconfig contexts). */
  tokens(): Array<{token: string; user: User}> {
    return [...this.byToken].map(([token, user]) => ({token, user}));
  }

  /** True when the rules allow the request. Members of `system:masters` may do anything. */
  allows(user: User, attrs: Attributes): boolean {
    if (user.groups.includes(`system:masters`))
      return true;
    const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return user.rules.some(rule =>
      (rule.verbs.includes(`*`) || rule.verbs.includes(attrs.verb))
      && (rule.resources.includes(`*`) || rule.resources.includes(resource))
      && (rule.apiGroups === undefined || rule.apiGroups.includes(`*`) || rule.apiGroups.includes(attrs.group))
      && (rule.namespaces === undefined || (attrs.namespace !== undefined && attrs.namespace !== `` && rule.namespaces.includes(attrs.namespace))));
  }

  /** The authorizer's reason when allowed (what SelfSubjectAccessReview reports). */
  allowReason(user: User): string {
    if (user.groups.includes(`system:masters`))
      return ``;
    return `RBAC: allowed by ClusterRoleBinding "emulator:${user.name}" of ClusterRole "emulator:${user.name}" to User "${user.name}"`;
  }
}

/** The tail of a Forbidden message: `User "alice" cannot get resource "secrets" in API group "" in the namespace "team-b"`. */
export function forbiddenMessage(user: User, attrs: Attributes): string {
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace "${attrs.namespace}"` : `at the cluster scope`;
  return `User "${user.name}" cannot ${attrs.verb} resource "${resource}" in API group "${attrs.group}" ${scope}`;
}
