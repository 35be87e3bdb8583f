// Writes a V8 code cache of the plugin's bundle: `node [the binary's V8 flags] scripts/lib/codeCache.ts BUNDLE OUT [GROUP]`,
// run by the very node (version and architecture) that becomes the binary (scripts/lib/sea.ts makeBlob). It compiles
// the bundle as the binary does (sources/bundleLoader.ts), runs the warm-up of GROUP (sources/warmup.ts: that command
// against a made-up cluster, over TLS with a certificate made here when openssl is there; none for the default cache) and writes `createCachedData()`, which then holds the bytecode of every
// function that ran.
// A code cache holds compiled code, not the heap: nothing the warm-up reads (environment, files) ends up in it.
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {compileBundle} from '../../sources/bundleLoader.ts';
import {warmUpCertificate} from './warmUpCertificate.ts';
import type {WarmUpTls} from '../../sources/warmup.ts';

const [bundle, out, group] = process.argv.slice(2);
if (bundle === undefined || out === undefined)
  throw new Error(`usage: codeCache.ts BUNDLE OUT [GROUP]`);
const {exports, script} = compileBundle(fs.readFileSync(bundle, `utf8`), undefined, createRequire(path.resolve(bundle)));
// add reads no cluster: its warm-up needs no certificate.
await (exports.warmUp as (group?: string, tls?: WarmUpTls) => Promise<void>)(group, group === undefined || group === `add` ? undefined : warmUpCertificate());
fs.writeFileSync(out, script.createCachedData());
