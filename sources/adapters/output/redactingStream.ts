/**
 * The output side of redaction (sources/core/redact.ts): `runPullSecret` wraps the context's stdout and
 * stderr so that every byte any command, adapter or error handler writes passes through the run's
 * `SecretRedactor` first. Output the user asked to hold secrets (`-o yaml|json` objects, `decode --reveal`)
 * is written to `revealed(stream)`, the unwrapped stream.
 */
import type {SecretRedactor} from '../../core/redact.ts';

const originals = new WeakMap<object, NodeJS.WritableStream>();

/** A view of `stream` whose `write` redacts; every other property and method is the stream's own. */
export function redactingStream<T extends NodeJS.WritableStream>(stream: T, redactor: SecretRedactor): T {
  if (originals.has(stream))
    return stream;
  const write = (chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === `string` ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString(`utf8`) : String(chunk);
    const safe = redactor.empty ? text : redactor.redact(text);
    return (stream.write as (chunk: string, ...rest: unknown[]) => boolean)(safe, ...rest);
  };
  const proxy = new Proxy(stream, {
    get(target, property) {
      if (property === `write`)
        return write;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === `function` ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  originals.set(proxy, stream);
  return proxy;
}

/** The stream under a redacting view (or the stream itself): for output the user explicitly asked to hold secrets. */
export function revealed<T extends NodeJS.WritableStream>(stream: T): T {
  return (originals.get(stream) as T | undefined) ?? stream;
}
