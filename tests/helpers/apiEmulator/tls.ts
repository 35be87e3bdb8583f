/**
 * Test PKI for the emulator: a throwaway CA, a server certificate for 127.0.0.1/localhost,
 * and client certificates (CN = user, O = groups), generated with the `openssl` CLI
 * (node:crypto cannot issue X.509 certificates). EC P-256 keys keep generation fast.
 */
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export type Pki = {
  dir: string;
  caFile: string;
  caPem: string;
  caKeyFile: string;
  serverCertPem: string;
  serverKeyPem: string;
};

export type ClientCert = {certFile: string; keyFile: string; certPem: string; keyPem: string};

function openssl(args: string[], cwd: string): void {
  execFileSync(`openssl`, args, {cwd, stdio: [`ignore`, `ignore`, `pipe`]});
}

/** Creates the CA and server certificate in `dir`. */
export function createPki(dir: string): Pki {
  openssl([`ecparam`, `-name`, `prime256v1`, `-genkey`, `-noout`, `-out`, `ca.key`], dir);
  openssl([`req`, `-x509`, `-new`, `-key`, `ca.key`, `-sha256`, `-days`, `3650`, `-subj`, `/CN=api-emulator-ca`,
    `-addext`, `basicConstraints=critical,CA:TRUE`, `-addext`, `keyUsage=critical,keyCertSign,cRLSign`, `-out`, `ca.crt`], dir);
  openssl([`ecparam`, `-name`, `prime256v1`, `-genkey`, `-noout`, `-out`, `server.key`], dir);
  openssl([`req`, `-new`, `-key`, `server.key`, `-sha256`, `-subj`, `/CN=localhost`, `-out`, `server.csr`], dir);
  fs.writeFileSync(path.join(dir, `server.ext`), `subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl([`x509`, `-req`, `-in`, `server.csr`, `-CA`, `ca.crt`, `-CAkey`, `ca.key`, `-CAcreateserial`, `-days`, `825`, `-sha256`, `-extfile`, `server.ext`, `-out`, `server.crt`], dir);
  return {
    dir,
    caFile: path.join(dir, `ca.crt`),
    caPem: fs.readFileSync(path.join(dir, `ca.crt`), `utf8`),
    caKeyFile: path.join(dir, `ca.key`),
    serverCertPem: fs.readFileSync(path.join(dir, `server.crt`), `utf8`),
    serverKeyPem: fs.readFileSync(path.join(dir, `server.key`), `utf8`),
  };
}

let clientSerial = 0;

/** Issues a client certificate signed by the CA: CN is the user, each group becomes an O. */
export function issueClientCertificate(pki: Pki, user: string, groups: string[] = []): ClientCert {
  const base = `client-${++clientSerial}`;
  const subject = `/CN=${escapeDn(user)}${groups.map(g => `/O=${escapeDn(g)}`).join(``)}`;
  openssl([`ecparam`, `-name`, `prime256v1`, `-genkey`, `-noout`, `-out`, `${base}.key`], pki.dir);
  openssl([`req`, `-new`, `-key`, `${base}.key`, `-sha256`, `-subj`, subject, `-out`, `${base}.csr`], pki.dir);
  fs.writeFileSync(path.join(pki.dir, `${base}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n`);
  openssl([`x509`, `-req`, `-in`, `${base}.csr`, `-CA`, `ca.crt`, `-CAkey`, `ca.key`, `-CAcreateserial`, `-days`, `825`, `-sha256`, `-extfile`, `${base}.ext`, `-out`, `${base}.crt`], pki.dir);
  const certFile = path.join(pki.dir, `${base}.crt`);
  const keyFile = path.join(pki.dir, `${base}.key`);
  return {certFile, keyFile, certPem: fs.readFileSync(certFile, `utf8`), keyPem: fs.readFileSync(keyFile, `utf8`)};
}

function escapeDn(value: string): string {
  return value.replace(/[/\\=+,]/g, c => `\\${c}`);
}
