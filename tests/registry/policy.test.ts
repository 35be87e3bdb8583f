// Transport safety decisions, tested on names only: nothing here opens a connection.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {isLoopbackHost, mayCarryCredentials, mayForwardAuthorization, realmDecision, redirectDecision, schemesFor} from '../../sources/core/registry/policy.ts';

test(`hosts of this machine are localhost, 127.0.0.0/8, 0.0.0.0/8, ::1, :: and their IPv4-mapped forms, with or without port`, () => {
  for (const host of [`localhost`, `localhost:5000`, `127.0.0.1`, `127.1.2.3:443`, `[::1]:5000`, `::1`, `registry.localhost`, `0.0.0.0`, `0.0.0.0:443`, `[::]:5000`, `[::ffff:127.0.0.1]:5000`, new URL(`https://[::ffff:127.0.0.1]:1/`).host, `[::ffff:0.0.0.0]`, `[0:0:0:0:0:ffff:7f00:1]`])
    assert.equal(isLoopbackHost(host), true, host);
  for (const host of [`10.0.0.1`, `128.0.0.1`, `localhost.example.com`, `127.0.0.1.nip.io`, `registry.example.com`, `[::2]:5000`, `[::ffff:a00:1]`, `[2001:db8::1]`])
    assert.equal(isLoopbackHost(host), false, host);
});

test(`plain HTTP is a fallback only for loopback and listed insecure hosts`, () => {
  assert.deepEqual(schemesFor(`registry.example.com`, []), [`https`]);
  assert.deepEqual(schemesFor(`127.0.0.1:5000`, []), [`https`, `http`]);
  assert.deepEqual(schemesFor(`registry.lan:5000`, [`registry.lan:5000`]), [`https`, `http`]);
  assert.deepEqual(schemesFor(`registry.lan:5000`, [`registry.lan`]), [`https`, `http`]);
  assert.deepEqual(schemesFor(`registry.lan:5000`, [`other.lan`]), [`https`]);
});

test(`credentials may travel over HTTPS anywhere but over HTTP only to loopback`, () => {
  assert.equal(mayCarryCredentials(new URL(`https://registry.example.com/v2/`)), true);
  assert.equal(mayCarryCredentials(new URL(`http://127.0.0.1:5000/v2/`)), true);
  assert.equal(mayCarryCredentials(new URL(`http://registry.lan:5000/v2/`)), false);
});

test(`a token realm on plain HTTP at a non-loopback host is refused`, () => {
  const decision = realmDecision(`http://auth.example.com/token`, `registry.example.com`, {withCredentials: true});
  assert.equal(decision.allowed, false);
  assert.equal(decision.allowed === false && decision.kind, `insecure`);
  assert.match(decision.allowed === false ? decision.reason : ``, /plain HTTP/);
});

test(`a plain-HTTP realm on a listed insecure registry's own host is refused with credentials but allowed anonymously`, () => {
  const options = {insecureHosts: [`registry.lan:5000`]};
  assert.equal(realmDecision(`http://registry.lan:5000/token`, `registry.lan:5000`, {...options, withCredentials: true}).allowed, false);
  assert.equal(realmDecision(`http://registry.lan:5000/token`, `registry.lan:5000`, {...options, withCredentials: false}).allowed, true);
  assert.equal(realmDecision(`http://auth.lan/token`, `registry.lan:5000`, {...options, withCredentials: false}).allowed, false);
});

test(`an HTTPS realm on another host is allowed, and a loopback realm only for a loopback registry`, () => {
  assert.equal(realmDecision(`https://auth.docker.io/token`, `registry-1.docker.io`, {withCredentials: true}).allowed, true);
  assert.equal(realmDecision(`http://127.0.0.1:5600/token`, `127.0.0.1:5000`, {withCredentials: true}).allowed, true);
  assert.equal(realmDecision(`https://127.0.0.1:5600/token`, `registry.example.com`, {withCredentials: true}).allowed, false);
  assert.equal(realmDecision(`http://localhost/token`, `registry.example.com`, {withCredentials: false}).allowed, false);
});

test(`realms that are not http(s) URLs or embed credentials are refused`, () => {
  const notUrl = realmDecision(`not a url`, `r.example.com`, {withCredentials: false});
  assert.equal(notUrl.allowed === false && notUrl.kind, `invalid`);
  const ftp = realmDecision(`ftp://r.example.com/token`, `r.example.com`, {withCredentials: false});
  assert.equal(ftp.allowed === false && ftp.kind, `invalid`);
  assert.equal(realmDecision(`https://user:pw@r.example.com/token`, `r.example.com`, {withCredentials: false}).allowed, false);
});

test(`Authorization follows a redirect only to the same scheme, host and port`, () => {
  const from = new URL(`https://registry.example.com/v2/a/manifests/1`);
  assert.equal(mayForwardAuthorization(from, new URL(`https://registry.example.com/v2/b`)), true);
  assert.equal(mayForwardAuthorization(from, new URL(`https://cdn.example.com/v2/a`)), false);
  assert.equal(mayForwardAuthorization(from, new URL(`https://registry.example.com:444/v2/a`)), false);
  assert.equal(mayForwardAuthorization(from, new URL(`http://registry.example.com/v2/a`)), false);
});

test(`a redirect to plain HTTP is followed only for loopback or insecure hosts`, () => {
  assert.equal(redirectDecision(new URL(`https://cdn.example.com/x`), []).allowed, true);
  assert.equal(redirectDecision(new URL(`http://cdn.example.com/x`), []).allowed, false);
  assert.equal(redirectDecision(new URL(`http://127.0.0.1:9/x`), []).allowed, true);
  assert.equal(redirectDecision(new URL(`http://cdn.lan/x`), [`cdn.lan`]).allowed, true);
  assert.equal(redirectDecision(new URL(`file:///etc/passwd`), []).allowed, false);
});
