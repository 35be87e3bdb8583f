/**
 * Kubernetes name rules, as the API server applies them (apimachinery's validation): namespaces are DNS-1123
 * labels (at most 63 characters), Secrets, ServiceAccounts and workloads DNS-1123 subdomains (at most 253).
 * Every name is checked against them before it becomes part of a URL, so `..`, `a/b` or `%2e%2e` can never
 * turn `/namespaces/../secrets` into a cluster-wide request. The one home of these rules: flags, the
 * cluster adapter's path builder and names read from manifests or the cluster all use it.
 */
import {InputError} from './errors.ts';

/** A DNS-1123 subdomain: the rule for Secret, ServiceAccount and workload names. */
export const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A DNS-1123 label: the rule for namespace names. */
export const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;
/** The most of a user's or server's input quoted in a message. */
const QUOTE_MAX = 64;

/** `"value"` for messages, with at most 64 characters of it and control characters escaped (a 30 MB name stays one short line). */
export function quoteInput(value: string, max = QUOTE_MAX): string {
  const cut = value.length > max ? `${value.slice(0, max)}...` : value;
  return JSON.stringify(cut).replace(/[\u007f-\u009f]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, `0`)}`);
}

/** Why `name` is not a valid namespace name (DNS-1123 label), or undefined when it is. */
export function namespaceNameProblem(name: string): string | undefined {
  if (name === ``)
    return `a namespace name must not be empty`;
  if (name.length > LABEL_MAX)
    return `must be no more than ${LABEL_MAX} characters`;
  if (!LABEL_RE.test(name))
    return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name')`;
  return undefined;
}

/** Why `name` is not a valid object name (DNS-1123 subdomain), or undefined when it is. */
export function objectNameProblem(name: string): string | undefined {
  if (name === ``)
    return `a name must not be empty`;
  if (name.length > SUBDOMAIN_MAX)
    return `must be no more than ${SUBDOMAIN_MAX} characters`;
  if (!SUBDOMAIN_RE.test(name))
    return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')`;
  return undefined;
}

/** The message for an invalid name: `invalid namespace "..": a lowercase RFC 1123 label …`. */
export function invalidNameMessage(what: string, name: string, problem: string): string {
  return `invalid ${what} ${quoteInput(name)}: ${problem}`;
}

/** Throws an `InputError` (exit 2) unless `name` is a valid namespace name. */
export function checkNamespaceName(name: string, what = `namespace`): void {
  const problem = namespaceNameProblem(name);
  if (problem !== undefined)
    throw new InputError(invalidNameMessage(what, name, problem));
}

/** Throws an `InputError` (exit 2) unless `name` is a valid object name. */
export function checkObjectName(name: string, what: string): void {
  const problem = objectNameProblem(name);
  if (problem !== undefined)
    throw new InputError(invalidNameMessage(what, name, problem));
}
