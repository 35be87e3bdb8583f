/**
 * Reads Kubernetes manifests for `verify -f`: a file, a directory (its `.yaml`, `.yml` and `.json` files, sorted,
 * not recursive, like `kubectl apply -f DIR`), or `-` for stdin. Multi-document YAML, JSON, and `List` kinds
 * (`kind: List` or any `*List` with `items`) are flattened, so rendered Helm or Kustomize output works as is.
 * Malformed input is an `InputError` (exit 2) naming the file and the document.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {parseAllDocuments} from 'yaml';
import {InputError} from '../../core/errors.ts';
import {decodeUtf8Text} from '../../core/text.ts';
import {parseGoJson} from '../../core/dockerconfig/goJson.ts';
import {yamlProblem} from '../../core/yamlProblem.ts';
import type {KubeObject} from '../../core/ports.ts';

/** One object read from a manifest, with where it came from (for messages). */
export type ManifestObject = {object: KubeObject; source: string};

const MANIFEST_EXTENSIONS = new Set([`.yaml`, `.yml`, `.json`]);

/** Reads every `-f` argument in order; `-` reads `stdin` (once). */
export async function readManifests(paths: string[], options: {cwd: string; stdin: NodeJS.ReadableStream}): Promise<ManifestObject[]> {
  const out: ManifestObject[] = [];
  let stdinRead = false;
  for (const given of paths) {
    if (given === `-`) {
      if (stdinRead)
        throw new InputError(`-f - may be given only once`);
      stdinRead = true;
      out.push(...parseManifestText(await readStream(options.stdin), `<stdin>`));
      continue;
    }
    const file = path.resolve(options.cwd, given);
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      throw new InputError(`cannot read ${given}: no such file or directory`);
    }
    const files = stat.isDirectory()
      ? (await fs.readdir(file)).filter(name => MANIFEST_EXTENSIONS.has(path.extname(name).toLowerCase())).sort().map(name => path.join(file, name))
      : [file];
    if (stat.isDirectory() && files.length === 0)
      throw new InputError(`${given} contains no .yaml, .yml or .json files`);
    for (const entry of files) {
      const label = stat.isDirectory() ? path.join(given, path.basename(entry)) : given;
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(entry);
      } catch (error) {
        throw new InputError(`cannot read ${label}: ${(error as NodeJS.ErrnoException).code ?? `read error`}`);
      }
      const text = decodeUtf8Text(bytes, label);
      out.push(...parseManifestText(text, label));
    }
  }
  return out;
}

/** Parses one file's text: JSON (one value) or multi-document YAML; flattens lists. */
export function parseManifestText(text: string, source: string): ManifestObject[] {
  try {
    return parseManifestTextUnguarded(text, source);
  } catch (error) {
    // Thousands of nested brackets overflow the parsers' (or collect's) recursion: one line naming the file.
    if (error instanceof RangeError)
      throw new InputError(`${source} is nested too deeply to be a Kubernetes manifest`);
    throw error;
  }
}

function parseManifestTextUnguarded(text: string, source: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith(`{`) || trimmed.startsWith(`[`)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // JSON.parse quotes the text around the error, which may be a password: give the offset instead.
      const parsed = parseGoJson(text);
      throw new InputError(`${source} is not valid JSON${parsed.ok ? `` : ` (${parsed.error})`}`);
    }
    collect(value, source, out);
    return out;
  }
  const documents = parseAllDocuments(text, {prettyErrors: false});
  const list = Array.isArray(documents) ? documents : [documents];
  list.forEach((document, index) => {
    const error = document.errors[0];
    if (error)
      throw new InputError(`${source} (document ${index + 1}) is not valid YAML: ${yamlProblem(text, error)}`);
    let value: unknown;
    try {
      // toJS throws on an alias without its anchor, or an alias bomb.
      value = document.toJS({maxAliasCount: 100}) as unknown;
    } catch (thrown) {
      throw new InputError(`${source} (document ${index + 1}) is not valid YAML: ${yamlProblem(text, {message: thrown instanceof Error ? thrown.message : String(thrown)})}`);
    }
    if (value === null || value === undefined)
      return;
    collect(value, `${source}${list.length > 1 ? ` (document ${index + 1})` : ``}`, out);
  });
  return out;
}

function collect(value: unknown, source: string, out: ManifestObject[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => collect(item, `${source} (item ${index + 1})`, out));
    return;
  }
  if (typeof value !== `object` || value === null)
    throw new InputError(`${source} is not a Kubernetes object`);
  const object = value as Record<string, unknown>;
  if (typeof object.kind === `string` && object.kind.endsWith(`List`) && Array.isArray(object.items)) {
    object.items.forEach((item, index) => collect(item, `${source} (${object.kind} item ${index + 1})`, out));
    return;
  }
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (typeof object.kind !== `string` || typeof metadata !== `object` || metadata === null || typeof metadata.name !== `string`)
    throw new InputError(`${source} is not a Kubernetes object (needs kind and metadata.name)`);
  out.push({object: object as KubeObject, source});
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === `string` ? Buffer.from(chunk) : chunk as Buffer);
  return decodeUtf8Text(Buffer.concat(chunks), `<stdin>`);
}
