// Test certificates made with the real `openssl` CLI (docs/testing.md A.2): a private CA and
// server certificates signed by it, including deliberately broken ones for the hostile tests.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A private CA: its key and certificate paths, and the certificate's PEM text. */
export type TestCa = {dir: string; keyFile: string; certFile: string; pem: string};

/** A server certificate signed by a `TestCa`. */
export type TestServerCert = {keyFile: string; certFile: string; key: string; cert: string};

const processTempDirs: string[] = [];
process.on(`exit`, () => {
  for (const dir of processTempDirs)
    fs.rmSync(dir, {recursive: true, force: true});
});

/** A temporary directory removed when the test process exits (or earlier by its owner). */
export function makeProcessTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  processTempDirs.push(dir);
  return dir;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync(`openssl`, args, {cwd, stdio: [`ignore`, `ignore`, `pipe`]});
  } catch (error) {
    const stderr = (error as {stderr?: Buffer}).stderr?.toString() ?? ``;
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(error)}`);
  }
}

/** Creates a CA (EC P-256 keys: fast to generate, accepted by Go and Node alike). */
export function makeCa(dir: string, commonName = `kubectl-pullsecret test CA`): TestCa {
  fs.mkdirSync(dir, {recursive: true});
  openssl([`req`, `-x509`, `-newkey`, `ec`, `-pkeyopt`, `ec_paramgen_curve:prime256v1`, `-nodes`, `-sha256`, `-days`, `3650`,
    `-subj`, `/CN=${commonName}`, `-keyout`, `ca.key`, `-out`, `ca.crt`,
    `-addext`, `basicConstraints=critical,CA:TRUE`, `-addext`, `keyUsage=critical,keyCertSign,cRLSign`], dir);
  const certFile = path.join(dir, `ca.crt`);
  return {dir, keyFile: path.join(dir, `ca.key`), certFile, pem: fs.readFileSync(certFile, `utf8`)};
}

/**
 * Issues a server certificate from `ca`. `altNames` defaults to the loopback names; `validity`
 * lets tests make an already expired certificate (via `openssl ca`, which accepts explicit dates).
 */
export function makeServerCert(ca: TestCa, name: string, options: {altNames?: string[]; commonName?: string; validity?: {notBefore: string; notAfter: string}} = {}): TestServerCert {
  const dir = ca.dir;
  const altNames = options.altNames ?? [`IP:127.0.0.1`, `DNS:localhost`];
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const certFile = path.join(dir, `${name}.crt`);
  const extFile = path.join(dir, `${name}.ext`);
  fs.writeFileSync(extFile, `subjectAltName=${altNames.join(`,`)}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl([`req`, `-newkey`, `ec`, `-pkeyopt`, `ec_paramgen_curve:prime256v1`, `-nodes`, `-sha256`, `-subj`, `/CN=${options.commonName ?? `localhost`}`, `-keyout`, keyFile, `-out`, csrFile], dir);
  if (options.validity === undefined) {
    openssl([`x509`, `-req`, `-in`, csrFile, `-CA`, ca.certFile, `-CAkey`, ca.keyFile, `-CAcreateserial`, `-days`, `825`, `-sha256`, `-extfile`, extFile, `-out`, certFile], dir);
  } else {
    // `openssl x509` (3.0) cannot set a start date; `openssl ca` can, given a throwaway database.
    const caDir = path.join(dir, `${name}-ca-db`);
    fs.mkdirSync(caDir, {recursive: true});
    fs.writeFileSync(path.join(caDir, `index.txt`), ``);
    fs.writeFileSync(path.join(caDir, `serial`), `01\n`);
    const config = [
      `[ca]`, `default_ca = test`,
      `[test]`, `dir = ${caDir}`, `database = ${caDir}/index.txt`, `serial = ${caDir}/serial`, `new_certs_dir = ${caDir}`,
      `certificate = ${ca.certFile}`, `private_key = ${ca.keyFile}`, `default_md = sha256`, `policy = anything`, `unique_subject = no`, `copy_extensions = none`,
      `[anything]`, `commonName = supplied`,
    ].join(`\n`);
    const configFile = path.join(caDir, `ca.cnf`);
    fs.writeFileSync(configFile, `${config}\n`);
    openssl([`ca`, `-batch`, `-config`, configFile, `-in`, csrFile, `-out`, certFile, `-notext`, `-startdate`, options.validity.notBefore, `-enddate`, options.validity.notAfter, `-extfile`, extFile], dir);
  }
  return {keyFile, certFile, key: fs.readFileSync(keyFile, `utf8`), cert: fs.readFileSync(certFile, `utf8`)};
}

/** An EC P-256 signing key with a self-signed certificate, for the token server (docs/testing.md A.3). */
export function makeSigningKey(dir: string): {keyFile: string; certFile: string; keyPem: string; certPem: string} {
  fs.mkdirSync(dir, {recursive: true});
  openssl([`req`, `-x509`, `-newkey`, `ec`, `-pkeyopt`, `ec_paramgen_curve:prime256v1`, `-nodes`, `-sha256`, `-days`, `3650`,
    `-subj`, `/CN=kubectl-pullsecret test token signer`, `-keyout`, `es.key`, `-out`, `es.crt`], dir);
  const keyFile = path.join(dir, `es.key`);
  const certFile = path.join(dir, `es.crt`);
  return {keyFile, certFile, keyPem: fs.readFileSync(keyFile, `utf8`), certPem: fs.readFileSync(certFile, `utf8`)};
}

type SharedTls = {ca: TestCa; server: TestServerCert; signer: ReturnType<typeof makeSigningKey>};
let shared: SharedTls | undefined;

/** One CA, loopback server certificate and token-signing key per test process (openssl takes ~50 ms per call). */
export function sharedTestTls(): SharedTls {
  if (shared === undefined) {
    const dir = makeProcessTempDir(`pullsecret-tls-`);
    const ca = makeCa(dir);
    shared = {ca, server: makeServerCert(ca, `server`), signer: makeSigningKey(path.join(dir, `signer`))};
  }
  return shared;
}
