/**
 * `verify -k DIR`: the rendered output of `kubectl kustomize DIR` (kubectl's own -k), read like `-f -`. When the
 * kustomization sets `buildMetadata: [originAnnotations]`, kustomize writes each resource's source file into the
 * `config.kubernetes.io/origin` annotation; positions (file and line of the image field) then point into that file,
 * found by kind and name (kustomize may have added a name prefix or suffix). Without it, or for a remote origin, a
 * resource has no position. Nothing is written; kubectl is looked up on the context's PATH.
 */
import {INPUT_CAPS, readBoundedFile} from '../local/files.ts';
import {spawn} from 'node:child_process';
import path from 'node:path';
import {parse as parseYaml} from 'yaml';
import {InputError} from '../../core/errors.ts';
import type {KubeObject} from '../../core/ports.ts';
import {decodeUtf8Text} from '../../core/text.ts';
import {parseManifestText} from './read.ts';
import type {ManifestObject} from './read.ts';

/** The annotation kustomize writes with `buildMetadata: [originAnnotations]`. */
export const ORIGIN_ANNOTATION = `config.kubernetes.io/origin`;
/** Rendered output larger than this is refused (a kustomization rendering 256 MB is not a release). */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
const MAX_STDERR_BYTES = 64 * 1024;
const KUSTOMIZE_TIMEOUT_MS = 120_000;

export async function readKustomization(dir: string, options: {cwd: string; env: Record<string, string | undefined>}): Promise<ManifestObject[]> {
  const rendered = await runKustomize(dir, options);
  const objects = parseManifestText(rendered, `kubectl kustomize ${dir}`);
  const sources = new Map<string, Promise<ManifestObject[] | undefined>>();
  return Promise.all(objects.map(async manifest => {
    const origin = originPath(manifest.object);
    if (origin === undefined)
      return {object: manifest.object, source: manifest.source, lineOf: () => undefined};
    const file = path.relative(options.cwd, path.resolve(options.cwd, dir, origin)) || origin;
    let pending = sources.get(file);
    if (!pending) {
      pending = readOrigin(path.resolve(options.cwd, file), file);
      sources.set(file, pending);
    }
    const original = findOriginal(manifest.object, await pending ?? []);
    return original
      ? {object: manifest.object, source: `${manifest.source} (from ${file})`, file, lineOf: original.lineOf}
      : {object: manifest.object, source: manifest.source, file, lineOf: () => undefined};
  }));
}

/** The local path of the origin annotation (relative to the kustomization), or undefined (none, remote, unreadable). */
function originPath(object: KubeObject): string | undefined {
  const text = object.metadata.annotations?.[ORIGIN_ANNOTATION];
  if (typeof text !== `string`)
    return undefined;
  let origin: unknown;
  try {
    origin = parseYaml(text);
  } catch {
    return undefined;
  }
  const record = typeof origin === `object` && origin !== null ? origin as Record<string, unknown> : {};
  return typeof record.path === `string` && record.repo === undefined ? record.path : undefined;
}

async function readOrigin(file: string, label: string): Promise<ManifestObject[] | undefined> {
  try {
    return parseManifestText(decodeUtf8Text(await readBoundedFile(file, INPUT_CAPS.manifest, label), label), label, label);
  } catch {
    // The file may be generated or gone since kubectl read it: the resource simply has no position.
    return undefined;
  }
}

/** The resource in its source file: same kind, and the same name or the name kustomize prefixed or suffixed. */
function findOriginal(rendered: KubeObject, candidates: ManifestObject[]): ManifestObject | undefined {
  const sameKind = candidates.filter(candidate => candidate.object.kind === rendered.kind);
  return sameKind.find(candidate => candidate.object.metadata.name === rendered.metadata.name)
    ?? sameKind.find(candidate => rendered.metadata.name.includes(candidate.object.metadata.name))
    ?? (sameKind.length === 1 ? sameKind[0] : undefined);
}

async function runKustomize(dir: string, options: {cwd: string; env: Record<string, string | undefined>}): Promise<string> {
  const result = await new Promise<{code: number | null; stdout: Buffer; stderr: string; tooLarge: boolean; spawnError?: NodeJS.ErrnoException}>(resolve => {
    const child = spawn(`kubectl`, [`kustomize`, dir], {cwd: options.cwd, env: options.env as NodeJS.ProcessEnv, stdio: [`ignore`, `pipe`, `pipe`], timeout: KUSTOMIZE_TIMEOUT_MS});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let errSize = 0;
    let tooLarge = false;
    child.stdout.on(`data`, (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        tooLarge = true;
        child.kill();
      } else {
        out.push(chunk);
      }
    });
    child.stderr.on(`data`, (chunk: Buffer) => {
      errSize += chunk.length;
      if (errSize <= MAX_STDERR_BYTES)
        err.push(chunk);
    });
    child.on(`error`, error => resolve({code: null, stdout: Buffer.alloc(0), stderr: ``, tooLarge: false, spawnError: error as NodeJS.ErrnoException}));
    child.on(`close`, code => resolve({code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(`utf8`), tooLarge}));
  });
  if (result.spawnError)
    throw new InputError(result.spawnError.code === `ENOENT` ? `-k needs kubectl on PATH: it renders ${dir} with kubectl kustomize` : `could not run kubectl kustomize ${dir}: ${result.spawnError.message}`);
  if (result.tooLarge)
    throw new InputError(`kubectl kustomize ${dir} rendered more than ${MAX_OUTPUT_BYTES / 1024 / 1024} MB`);
  if (result.code !== 0) {
    const first = result.stderr.split(`\n`).map(line => line.trim()).find(line => line !== ``) ?? `exit ${result.code ?? `signal`}`;
    // Newer kubectl logs the failure through klog: `E1207 20:30:05.750926 6072 run.go:72] "command failed" err="…"`.
    const klog = /^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err="(.*)"$/.exec(first);
    const reason = klog ? klog[1]!.replace(/\\"/g, `"`) : first.replace(/^error:\s*/i, ``);
    throw new InputError(`kubectl kustomize ${dir} failed: ${reason}`);
  }
  return decodeUtf8Text(result.stdout, `kubectl kustomize ${dir}`);
}
