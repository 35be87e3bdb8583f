/**
 * The one owner of the process's default TLS trust store (node:tls `setDefaultCACertificates`).
 *
 * A secure context given a `ca` trusts that CA *and* Node's ~120 bundled root certificates, which Node parses for
 * it: about 8 ms of CPU in the first TLS connection of every cluster command, for certificates a kubeconfig's
 * `certificate-authority` excludes anyway (kubectl trusts that CA alone). A context made while the default store
 * holds only the cluster's CA parses one certificate and trusts only it, and keeps that store when the default
 * changes later.
 *
 * So the kube adapter makes its context with `secureContextTrustingOnly`, and every other TLS user (registries,
 * client-node's auth providers, a cluster without a CA of its own, a proxy) calls `useDefaultTrust()` first, which
 * puts Node's default store back (bundled roots plus NODE_EXTRA_CA_CERTS) when it was replaced and keeps it for the
 * rest of the process: contexts made later (a connection's, after a DNS lookup) never see a cluster's CA as a default.
 * tests/architecture.test.ts holds every module that opens TLS connections to importing this one. With
 * `--use-system-ca` or `--use-openssl-ca`, whose stores cannot be put back from JavaScript, contexts are made as Node
 * makes them.
 */
import {execArgv} from 'node:process';
import tls from 'node:tls';
import type {SecureContext, SecureContextOptions} from 'node:tls';

/** The default store holds a cluster's CA instead of Node's roots. */
let replaced = false;
/** Something relies on the default store: it is never replaced again in this process. */
let pinned = false;

/**
 * False when Node's default store is one this module could not put back (the system's or OpenSSL's): Node's own
 * options (its command line, NODE_OPTIONS and NODE_USE_SYSTEM_CA in the environment the process started with) say so.
 */
function defaultStoreRestorable(env: Record<string, string | undefined>): boolean {
  const flags = [...execArgv, ...(env.NODE_OPTIONS ?? ``).split(/\s+/)];
  return typeof tls.setDefaultCACertificates === `function` && env.NODE_USE_SYSTEM_CA !== `1`
    && !flags.some(flag => /^--use-(system|openssl)-ca\b/.test(flag));
}

/** The PEM certificates of a CA bundle, one string each (empty when it holds none). */
function pemCertificates(ca: string | Buffer): string[] {
  return String(ca).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * A secure context that trusts only the certificates of `ca` (and carries the other options: a client certificate
 * and key). `env` is the environment the process started with. Throws what `tls.createSecureContext` throws for
 * unusable material; a CA Node cannot read is handed to it as before, so that its error stays Node's.
 */
export function secureContextTrustingOnly(ca: string | Buffer, options: Omit<SecureContextOptions, `ca`>, env: Record<string, string | undefined>): SecureContext {
  const certificates = pemCertificates(ca);
  if (certificates.length > 0 && !pinned && defaultStoreRestorable(env)) {
    try {
      tls.setDefaultCACertificates(certificates);
      replaced = true;
      return tls.createSecureContext(options);
    } catch {
      // Read as Node reads a `ca` option below, with Node's own error for material it cannot use.
    }
  }
  useDefaultTrust();
  return tls.createSecureContext({...options, ca});
}

/** Puts Node's default trust store back if `secureContextTrustingOnly` replaced it, for good; call before any other TLS use. */
export function useDefaultTrust(): void {
  pinned = true;
  if (!replaced)
    return;
  replaced = false;
  tls.setDefaultCACertificates([...tls.getCACertificates(`bundled`), ...tls.getCACertificates(`extra`)]);
}
