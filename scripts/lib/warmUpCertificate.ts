// The certificate of the code-cache warm-up's made-up cluster (scripts/lib/codeCache.ts, sources/warmup.ts).
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {WarmUpTls} from '../../sources/warmup.ts';

/**
 * A throw-away certificate for the warm-up's made-up cluster (`name`: the warm-up kubeconfig's tls-server-name),
 * made with openssl so that the warm-up reaches the cluster over TLS and HTTP/2 as real runs do; without openssl
 * (undefined) the warm-up serves plain HTTP and the cache misses only the connection code. Gone after the build.
 */
export function warmUpCertificate(name = `warm-up.example`): WarmUpTls | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-warm-up-tls-`));
  try {
    const [cert, key] = [path.join(dir, `cert.pem`), path.join(dir, `key.pem`)];
    const made = spawnSync(`openssl`, [`req`, `-x509`, `-newkey`, `ec`, `-pkeyopt`, `ec_paramgen_curve:prime256v1`, `-nodes`, `-days`, `1`, `-subj`, `/CN=${name}`, `-addext`, `subjectAltName=DNS:${name}`, `-keyout`, key, `-out`, cert], {stdio: `ignore`});
    return made.status === 0 ? {cert: fs.readFileSync(cert, `utf8`), key: fs.readFileSync(key, `utf8`)} : undefined;
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}
