/**
 * Reads Kubernetes manifests for `verify -f`: a file, a directory (its `.yaml`, `.yml` and `.json` files, sorted,
 * not recursive, like `kubectl apply -f DIR`), or `-` for stdin. Multi-document YAML, JSON, and `List` kinds
 * (`kind: List` or any `*List` with `items`) are flattened, so rendered Helm or Kustomize output works as is.
 * Malformed input is an `InputError` (exit 2) naming the file and the document.
 */
// fs.promises on use, not node:fs/promises: loading that (with readline and the file watchers) costs every `decode`.
import fsSync from 'node:fs';
import path from 'node:path';
import {LineCounter, isNode, parseAllDocuments, parseDocument} from 'yaml';
import type {Document} from 'yaml';
import {invalidNameMessage, namespaceNameProblem, objectNameProblem} from '../../core/names.ts';
import {InputError} from '../../core/errors.ts';
import {INPUT_CAPS, readBoundedFile, readWholeInput} from '../local/files.ts';
import {decodeUtf8Text} from '../../core/text.ts';
import {parseGoJson} from '../../core/dockerconfig/goJson.ts';
import {yamlProblem} from '../../core/yamlProblem.ts';
import type {KubeObject} from '../../core/ports.ts';

/**
 * One object read from a manifest, with where it came from: `source` names it for messages, `file` is the file as the
 * user named it (absent for stdin), `lineOf` gives the 1-based line of a field inside the object (for CI reports).
 */
export type ManifestObject = {object: KubeObject; source: string; file?: string; lineOf: (path: Array<string | number>) => number | undefined};

/** Finds the line of a field, given the path of the object inside its document. */
type DocumentLines = (path: Array<string | number>) => number | undefined;

const MANIFEST_EXTENSIONS = new Set([`.yaml`, `.yml`, `.json`]);
/** The most YAML documents read from one input (a rendered release holds hundreds). */
const MAX_DOCUMENTS = 10_000;

/** Lines starting with `---` (document starts), counted without building any array. */
function countDocumentMarkers(text: string): number {
  let count = text.startsWith(`---`) ? 1 : 0;
  for (let at = text.indexOf(`\n---`); at !== -1; at = text.indexOf(`\n---`, at + 4))
    count++;
  return count;
}

/** Reads every `-f` argument in order; `-` reads `stdin` (once). */
export async function readManifests(paths: string[], options: {cwd: string; stdin: NodeJS.ReadableStream}): Promise<ManifestObject[]> {
  const out: ManifestObject[] = [];
  let stdinRead = false;
  for (const given of paths) {
    if (given === `-`) {
      if (stdinRead)
        throw new InputError(`-f - may be given only once`);
      stdinRead = true;
      out.push(...parseManifestText(await readStream(options.stdin), `<stdin>`, undefined));
      continue;
    }
    const file = path.resolve(options.cwd, given);
    let stat;
    try {
      stat = await fsSync.promises.stat(file);
    } catch {
      throw new InputError(`cannot read ${given}: no such file or directory`);
    }
    const files = stat.isDirectory()
      ? (await fsSync.promises.readdir(file)).filter(name => MANIFEST_EXTENSIONS.has(path.extname(name).toLowerCase())).sort().map(name => path.join(file, name))
      : [file];
    if (stat.isDirectory() && files.length === 0)
      throw new InputError(`${given} contains no .yaml, .yml or .json files`);
    for (const entry of files) {
      const label = stat.isDirectory() ? path.join(given, path.basename(entry)) : given;
      let bytes: Buffer;
      try {
        bytes = await readBoundedFile(entry, INPUT_CAPS.manifest, label);
      } catch (error) {
        if (error instanceof InputError)
          throw error;
        throw new InputError(`cannot read ${label}: ${(error as NodeJS.ErrnoException).code ?? `read error`}`);
      }
      const text = decodeUtf8Text(bytes, label);
      out.push(...parseManifestText(text, label, label));
    }
  }
  return out;
}

/** Parses one file's text: JSON (one value) or multi-document YAML; flattens lists. `file` is given for files, not stdin. */
export function parseManifestText(text: string, source: string, file?: string): ManifestObject[] {
  try {
    return parseManifestTextUnguarded(text, source, file);
  } catch (error) {
    // Thousands of nested brackets overflow the parsers' (or collect's) recursion: one line naming the file.
    if (error instanceof RangeError)
      throw new InputError(`${source} is nested too deeply to be a Kubernetes manifest`);
    throw error;
  }
}

function parseManifestTextUnguarded(text: string, source: string, file: string | undefined): ManifestObject[] {
  const out: ManifestObject[] = [];
  const place = (object: KubeObject, where: string, lines: DocumentLines, prefix: Array<string | number>) => {
    out.push({object, source: where, ...(file === undefined ? {} : {file}), lineOf: path => lines([...prefix, ...path])});
  };
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
    // Lines of JSON input are found only when asked (CI reports), with a second, position-keeping parse.
    let document: Document | undefined;
    const lineCounter = new LineCounter();
    const lines: DocumentLines = path => {
      document ??= parseDocument(text, {lineCounter, prettyErrors: false});
      return lineIn(document, lineCounter, path);
    };
    collect(value, source, place, lines, []);
    return out;
  }
  // Each document costs the YAML parser a few hundred bytes even when empty: a file of `---` lines is refused
  // by count before it is parsed.
  if (countDocumentMarkers(text) > MAX_DOCUMENTS)
    throw new InputError(`${source} holds more than ${MAX_DOCUMENTS} YAML documents, the most this plugin reads from one input; split it`);
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {prettyErrors: false, lineCounter});
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
    collect(value, `${source}${list.length > 1 ? ` (document ${index + 1})` : ``}`, place, path => lineIn(document, lineCounter, path), []);
  });
  return out;
}

/** The 1-based line where the node at `path` starts, if the document has it. */
function lineIn(document: Document, lineCounter: LineCounter, path: Array<string | number>): number | undefined {
  const node = document.getIn(path, true);
  if (!isNode(node) || node.range === undefined || node.range === null)
    return undefined;
  return lineCounter.linePos(node.range[0]).line;
}

type Place = (object: KubeObject, source: string, lines: DocumentLines, prefix: Array<string | number>) => void;

function collect(value: unknown, source: string, place: Place, lines: DocumentLines, prefix: Array<string | number>): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => collect(item, `${source} (item ${index + 1})`, place, lines, [...prefix, index]));
    return;
  }
  if (typeof value !== `object` || value === null)
    throw new InputError(`${source} is not a Kubernetes object`);
  const object = value as Record<string, unknown>;
  if (typeof object.kind === `string` && object.kind.endsWith(`List`) && Array.isArray(object.items)) {
    object.items.forEach((item, index) => collect(item, `${source} (${object.kind} item ${index + 1})`, place, lines, [...prefix, `items`, index]));
    return;
  }
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (typeof object.kind !== `string` || typeof metadata !== `object` || metadata === null || typeof metadata.name !== `string`)
    throw new InputError(`${source} is not a Kubernetes object (needs kind and metadata.name)`);
  // The API server would refuse these names (and a 30 MB name must not become a 30 MB message): one short line.
  const nameProblem = object.kind === `Namespace` ? namespaceNameProblem(metadata.name) : objectNameProblem(metadata.name);
  if (nameProblem !== undefined)
    throw new InputError(`${source}: ${invalidNameMessage(`metadata.name`, metadata.name, nameProblem)}`);
  if (typeof metadata.namespace === `string`) {
    const namespaceProblem = namespaceNameProblem(metadata.namespace);
    if (namespaceProblem !== undefined)
      throw new InputError(`${source}: ${invalidNameMessage(`metadata.namespace`, metadata.namespace, namespaceProblem)}`);
  }
  place(object as KubeObject, source, lines, prefix);
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  return decodeUtf8Text(await readWholeInput(stream, INPUT_CAPS.manifest, `-f - (stdin)`), `<stdin>`);
}
