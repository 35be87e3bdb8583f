// The one redaction rule (sources/core/redact.ts): secret values vanish from any text in every form a server or an
// encoder echoes them, redaction comes before truncation, and a short password that is also an ordinary word or
// address is only hidden where it stands as a value, so where "[redacted]" lands never tells the password.
import assert from 'node:assert/strict';
import {test} from 'node:test';
import {SecretRedactor} from '../../sources/core/redact.ts';
import {b64} from '../helpers/encoding.ts';


test(`a long password is redacted as is, JSON- and URL-escaped, in base64 and inside the auth value`, () => {
  const redactor = new SecretRedactor();
  const password = `Pa55<w0rd>&"long"`;
  redactor.addCredential(`alice`, password);
  for (const form of [password, JSON.stringify(password).slice(1, -1), `Pa55\\u003cw0rd\\u003e\\u0026\\"long\\"`, encodeURIComponent(password), b64(password), b64(`alice:${password}`)])
    assert.equal(redactor.redact(`before ${form} after`), `before [redacted] after`, form);
});

test(`a .dockerconfigjson payload is redacted as base64, as JSON text and through its auth and password fields`, () => {
  const redactor = new SecretRedactor();
  const json = JSON.stringify({auths: {'r.example': {username: `u`, password: `s3cr3t-pass-word`, auth: b64(`u:s3cr3t-pass-word`)}}});
  redactor.addSecretData({'.dockerconfigjson': b64(json)}, true);
  const message = `Secret "x" is invalid: data[.dockerconfigjson]: Invalid value: "${b64(json)}": rejected; decoded ${json}`;
  const redacted = redactor.redact(message);
  assert.ok(!redacted.includes(`s3cr3t`), redacted);
  assert.ok(!redacted.includes(b64(json).slice(0, 12)), redacted);
  assert.match(redacted, /^Secret "x" is invalid: data\[\.dockerconfigjson\]: Invalid value: "\[redacted\]"/);
});

test(`redaction comes before truncation, so a password straddling the cut shows no prefix`, () => {
  const redactor = new SecretRedactor();
  const password = `straddling-the-cut-0123456789`;
  redactor.add(password);
  const text = `${`x`.repeat(190)} ${password} tail`;
  const safe = redactor.safeText(text, 200);
  assert.ok(safe.length <= 200, safe);
  assert.ok(!safe.includes(`straddling`), safe);
});

test(`text cut by a size cap loses a tail that begins a secret`, () => {
  const redactor = new SecretRedactor();
  redactor.add(`a-secret-token-of-some-length`);
  assert.equal(redactor.redact(`echo: a-secret-tok`, {cut: true}), `echo: [redacted]`);
  assert.equal(redactor.redact(`echo: a-secret-tok`), `echo: a-secret-tok`, `uncut text keeps ordinary words`);
});

test(`a short password is hidden where it stands as a value, and nowhere else (no message pins it down)`, () => {
  const redactor = new SecretRedactor();
  redactor.addCredential(`alice`, `wrong`);
  assert.equal(redactor.redact(`HTTP 401: wrong or expired credentials`), `HTTP 401: wrong or expired credentials`);
  assert.equal(redactor.redact(`body: grant_type=password&password=wrong&client_id=x`), `body: grant_type=password&password=[redacted]&client_id=x`);
  assert.equal(redactor.redact(`{"password":"wrong"}`), `{"password":"[redacted]"}`);
  assert.equal(redactor.redact(`Basic ${b64(`alice:wrong`)}`), `Basic [redacted]`);
  assert.equal(redactor.redact(`base64 ${b64(`wrong`)}`), `base64 [redacted]`);
  const address = new SecretRedactor();
  address.add(`127.0.0.1`);
  assert.equal(address.redact(`the token server 127.0.0.1:37271 refused`), `the token server 127.0.0.1:37271 refused`);
});

test(`an empty register leaves text untouched and an empty value registers nothing`, () => {
  const redactor = new SecretRedactor();
  redactor.add(``);
  assert.equal(redactor.empty, true);
  assert.equal(redactor.redact(`anything`), `anything`);
});

test(`overlapping secrets are redacted as one span: no part of either shows`, () => {
  const redactor = new SecretRedactor();
  redactor.add(`first-secret-ABCDEFGH`);
  redactor.add(`ABCDEFGH-second-secret-longer`);
  assert.equal(redactor.redact(`x first-secret-ABCDEFGH-second-secret-longer y`), `x [redacted] y`);
  assert.equal(redactor.redact(`x first-secret-ABCDEFGH first-secret-ABCDEFGH y`), `x [redacted] [redacted] y`);
});

test(`with hundreds of registry tokens registered, each one is redacted wherever it appears, and other text is untouched`, () => {
  const redactor = new SecretRedactor();
  const tokens = Array.from({length: 500}, (_, i) => `eyJ${i.toString(36).padStart(4, `0`)}.payload-${i}.signature-${i * 7919}`);
  for (const token of tokens)
    redactor.add(token);
  for (const index of [0, 1, 377, 499])
    assert.equal(redactor.redact(`HTTP 401 for Bearer ${tokens[index]}: denied; ${b64(tokens[index]!)}`), `HTTP 401 for Bearer [redacted]: denied; [redacted]`, `token ${index}`);
  const plain = `eyJ0001.payload-1.signatur and payload-2 and ${`z`.repeat(100)}`;
  assert.equal(redactor.redact(plain), plain);
});

test(`every occurrence of every secret is redacted, overlapping ones as one span: 300 random texts against a plain search`, () => {
  // Secrets and texts over a 3-letter alphabet (their encoded forms hold other characters, so only the raw values
  // can occur), 12 to 40 characters: many share prefixes, overlap and repeat, which is what could make a fast scan
  // skip one. The plain reference: find every occurrence of every secret, merge overlapping spans, replace each.
  let seed = 0x5eed;
  const random = (below: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % below;
  const word = (length: number) => Array.from({length}, () => `abc`[random(3)]).join(``);
  for (let round = 0; round < 300; round++) {
    const secrets = Array.from({length: 1 + random(30)}, () => word(12 + random(29)));
    const redactor = new SecretRedactor();
    for (const secret of secrets)
      redactor.add(secret);
    let text = word(random(200));
    for (let planted = random(6); planted > 0; planted--) {
      const at = random(text.length + 1);
      text = text.slice(0, at) + secrets[random(secrets.length)]! + text.slice(at);
    }
    const spans: Array<[number, number]> = [];
    for (const secret of secrets) {
      for (let at = text.indexOf(secret); at >= 0; at = text.indexOf(secret, at + 1))
        spans.push([at, at + secret.length]);
    }
    spans.sort((a, b) => a[0] - b[0]);
    let expected = ``;
    let copied = 0;
    for (let i = 0; i < spans.length;) {
      let [start, end] = spans[i]!;
      for (i++; i < spans.length && spans[i]![0] < end; i++)
        end = Math.max(end, spans[i]![1]);
      expected += `${text.slice(copied, start)}[redacted]`;
      copied = end;
    }
    expected += text.slice(copied);
    assert.equal(redactor.redact(text), expected, `round ${round}: secrets ${JSON.stringify(secrets)}`);
  }
});
