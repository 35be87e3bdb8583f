import type {KubeObject} from '../../core/ports.ts';
import {toKubectlYaml} from './yaml.ts';
import {revealed} from './redactingStream.ts';

/** The object formats every command's `-o` accepts. */
export type ObjectFormat = `json` | `yaml` | `name`;


/**
 * JSON as kubectl prints it: 4-space indent and Go's HTML escaping of `<`, `>`, `&`
 * (encoding/json), so that output can be compared byte for byte with kubectl's.
 */
export function toKubectlJson(value: unknown): string {
  return JSON.stringify(value, null, 4).replace(/[<>&\u2028\u2029]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, `0`)}`);
}

/** `secret/regcred`, `deployment.apps/web`: kubectl's `-o name` form of an object. */
export function objectName(object: KubeObject): string {
  const kind = (object.kind ?? `Secret`).toLowerCase();
  const apiVersion = object.apiVersion ?? `v1`;
  const group = apiVersion.includes(`/`) ? apiVersion.slice(0, apiVersion.indexOf(`/`)) : ``;
  return `${group ? `${kind}.${group}` : kind}/${object.metadata.name}`;
}

/** kubectl's wrapper for several objects printed at once. */
export function asList(objects: unknown[]): Record<string, unknown> {
  return {apiVersion: `v1`, items: objects, kind: `List`, metadata: {resourceVersion: ``}};
}

/**
 * Prints objects as kubectl does: one object as itself, several as a `List`
 * (json and yaml), or one `kind/name` line per object (name), without managedFields (hidden by kubectl's
 * printers by default, `create … -o yaml` included). The user asked for the objects, secrets
 * included, so they bypass redaction (as `kubectl get secret -o yaml` shows `data`).
 */
export function printObjects(printed: KubeObject[], format: ObjectFormat, redactedStdout: NodeJS.WritableStream): void {
  const stdout = revealed(redactedStdout);
  const objects = printed.map(withoutManagedFields);
  switch (format) {
    case `name`:
      for (const object of objects)
        stdout.write(`${objectName(object)}\n`);
      return;
    case `json`:
      stdout.write(`${toKubectlJson(objects.length === 1 ? objects[0] : asList(objects))}\n`);
      return;
    case `yaml`:
      stdout.write(toKubectlYaml(objects.length === 1 ? objects[0] : asList(objects)));
      return;
  }
}

/** The object without `metadata.managedFields`, which kubectl's printers hide unless --show-managed-fields. */
export function withoutManagedFields(object: KubeObject): KubeObject {
  if (object.metadata?.managedFields === undefined)
    return object;
  const {managedFields: _hidden, ...metadata} = object.metadata;
  return {...object, metadata};
}

/** Prints a plain data document (not a Kubernetes object) as JSON or YAML, with kubectl's formatting. */
export function printData(value: unknown, format: `json` | `yaml`, stdout: NodeJS.WritableStream): void {
  stdout.write(format === `json` ? `${toKubectlJson(value)}\n` : toKubectlYaml(value));
}
