/**
 * Decoder for the protobuf request bodies kubectl sends (`create secret …`, `create namespace`,
 * `create serviceaccount`, `auth can-i`): the `k8s\0` magic, the runtime.Unknown envelope, and the
 * generated messages for Secret, Namespace, ServiceAccount and SelfSubjectAccessReview
 * (field numbers from k8s.io/api generated.proto). gogo-proto writes `""`/`0` for unset fields;
 * they are dropped so the result equals the JSON form with omitempty.
 */

type Field = {no: number; wire: number; value: number | Uint8Array};

class Reader {
  private pos = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length)
        throw new Error(`truncated varint`);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0)
        return result;
      mul *= 128;
    }
  }

  field(): Field {
    const tag = this.varint();
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    switch (wire) {
      case 0: return {no, wire, value: this.varint()};
      case 1: this.pos += 8; return {no, wire, value: 0};
      case 2: {
        const len = this.varint();
        const value = this.buf.subarray(this.pos, this.pos + len);
        if (value.length !== len)
          throw new Error(`truncated field ${no}`);
        this.pos += len;
        return {no, wire, value};
      }
      case 5: this.pos += 4; return {no, wire, value: 0};
      default: throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

function fields(buf: Uint8Array): Field[] {
  const r = new Reader(buf);
  const out: Field[] = [];
  while (!r.done())
    out.push(r.field());
  return out;
}

const utf8 = new TextDecoder(`utf-8`);
const str = (f: Field) => utf8.decode(f.value as Uint8Array);
const bytes = (f: Field) => f.value as Uint8Array;
const num = (f: Field) => f.value as number;

function mapEntry(buf: Uint8Array, valueAsBytes: boolean): [string, string | Uint8Array] {
  let key = ``;
  let value: string | Uint8Array = valueAsBytes ? new Uint8Array() : ``;
  for (const f of fields(buf)) {
    if (f.no === 1) key = str(f);
    if (f.no === 2) value = valueAsBytes ? bytes(f) : str(f);
  }
  return [key, value];
}

function time(buf: Uint8Array): string {
  let seconds = 0;
  for (const f of fields(buf)) {
    if (f.no === 1) seconds = num(f);
  }
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, `Z`);
}

function objectMeta(buf: Uint8Array): any {
  const meta: any = {};
  const set = (k: string, v: unknown) => {
    if (v !== `` && v !== 0)
      meta[k] = v;
  };
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1: set(`name`, str(f)); break;
      case 2: set(`generateName`, str(f)); break;
      case 3: set(`namespace`, str(f)); break;
      case 5: set(`uid`, str(f)); break;
      case 6: set(`resourceVersion`, str(f)); break;
      case 7: set(`generation`, num(f)); break;
      case 8: {
        const t = fields(bytes(f)).length > 0 ? time(bytes(f)) : ``;
        if (t) meta.creationTimestamp = t;
        break;
      }
      case 11: {
        const [k, v] = mapEntry(bytes(f), false);
        (meta.labels ??= {})[k] = v;
        break;
      }
      case 12: {
        const [k, v] = mapEntry(bytes(f), false);
        (meta.annotations ??= {})[k] = v;
        break;
      }
      case 13: {
        const ref: any = {};
        for (const g of fields(bytes(f))) {
          if (g.no === 1) ref.kind = str(g);
          if (g.no === 3) ref.name = str(g);
          if (g.no === 4) ref.uid = str(g);
          if (g.no === 5) ref.apiVersion = str(g);
          if (g.no === 6) ref.controller = num(g) !== 0;
          if (g.no === 7) ref.blockOwnerDeletion = num(g) !== 0;
        }
        (meta.ownerReferences ??= []).push(ref);
        break;
      }
      case 14: (meta.finalizers ??= []).push(str(f)); break;
      default: break;
    }
  }
  return meta;
}

function secret(buf: Uint8Array): any {
  const out: any = {metadata: {}};
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1: out.metadata = objectMeta(bytes(f)); break;
      case 2: {
        const [k, v] = mapEntry(bytes(f), true);
        (out.data ??= {})[k] = Buffer.from(v as Uint8Array).toString(`base64`);
        break;
      }
      case 3: if (str(f) !== ``) out.type = str(f); break;
      case 4: {
        const [k, v] = mapEntry(bytes(f), false);
        (out.stringData ??= {})[k] = v;
        break;
      }
      case 5: out.immutable = num(f) !== 0; break;
      default: break;
    }
  }
  return out;
}

function namespace(buf: Uint8Array): any {
  const out: any = {metadata: {}};
  for (const f of fields(buf)) {
    if (f.no === 1) out.metadata = objectMeta(bytes(f));
    if (f.no === 2) {
      const finalizers = fields(bytes(f)).filter(g => g.no === 1).map(str);
      out.spec = finalizers.length ? {finalizers} : {};
    }
  }
  return out;
}

function serviceAccount(buf: Uint8Array): any {
  const out: any = {metadata: {}};
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1: out.metadata = objectMeta(bytes(f)); break;
      case 2: {
        const ref: any = {};
        for (const g of fields(bytes(f))) {
          if (g.no === 1) ref.kind = str(g);
          if (g.no === 2) ref.namespace = str(g);
          if (g.no === 3) ref.name = str(g);
        }
        for (const k of Object.keys(ref)) if (ref[k] === ``) delete ref[k];
        (out.secrets ??= []).push(ref);
        break;
      }
      case 3: {
        const ref: any = {};
        for (const g of fields(bytes(f))) {
          if (g.no === 1) ref.name = str(g);
        }
        (out.imagePullSecrets ??= []).push(ref);
        break;
      }
      case 4: out.automountServiceAccountToken = num(f) !== 0; break;
      default: break;
    }
  }
  return out;
}

function selfSubjectAccessReview(buf: Uint8Array): any {
  const out: any = {metadata: {}, spec: {}};
  for (const f of fields(buf)) {
    if (f.no === 1) out.metadata = objectMeta(bytes(f));
    if (f.no !== 2) continue;
    for (const g of fields(bytes(f))) {
      if (g.no === 1) {
        const ra: any = {};
        const names = [``, `namespace`, `verb`, `group`, `version`, `resource`, `subresource`, `name`];
        for (const h of fields(bytes(g))) {
          const key = names[h.no];
          if (key && h.wire === 2 && str(h) !== ``) ra[key] = str(h);
        }
        out.spec.resourceAttributes = ra;
      }
      if (g.no === 2) {
        const nra: any = {};
        for (const h of fields(bytes(g))) {
          if (h.no === 1 && str(h) !== ``) nra.path = str(h);
          if (h.no === 2 && str(h) !== ``) nra.verb = str(h);
        }
        out.spec.nonResourceAttributes = nra;
      }
    }
  }
  return out;
}

function selfSubjectRulesReview(buf: Uint8Array): any {
  const out: any = {metadata: {}, spec: {}};
  for (const f of fields(buf)) {
    if (f.no === 1) out.metadata = objectMeta(bytes(f));
    if (f.no === 2) {
      for (const g of fields(bytes(f))) {
        if (g.no === 1 && str(g) !== ``) out.spec.namespace = str(g);
      }
    }
  }
  return out;
}

function metadataOnly(buf: Uint8Array): any {
  const out: any = {metadata: {}};
  for (const f of fields(buf)) {
    if (f.no === 1) out.metadata = objectMeta(bytes(f));
  }
  return out;
}

/**
 * A Job's metadata only: kubectl sends a protobuf Job for `kubectl create job NAME --from=cronjob/CJ`, whose spec is
 * exactly the CronJob's `jobTemplate.spec` (the HTTP layer takes it from there; see `specFromCronJob` in http.ts).
 */
function jobMetadata(buf: Uint8Array): any {
  return {...metadataOnly(buf), specFromOwner: true};
}

const DECODERS: Record<string, (buf: Uint8Array) => any> = {
  'batch/v1/Job': jobMetadata,
  'authorization.k8s.io/v1/SelfSubjectRulesReview': selfSubjectRulesReview,
  'authentication.k8s.io/v1/SelfSubjectReview': metadataOnly,
  'v1/Secret': secret,
  'v1/Namespace': namespace,
  'v1/ServiceAccount': serviceAccount,
  'authorization.k8s.io/v1/SelfSubjectAccessReview': selfSubjectAccessReview,
};

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

/** Decodes a `application/vnd.kubernetes.protobuf` body to the JSON object it encodes; throws for unsupported kinds. */
export function decodeProtobuf(body: Uint8Array): any {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b))
    throw new Error(`provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]`);
  let apiVersion = ``;
  let kind = ``;
  let raw: Uint8Array = new Uint8Array();
  for (const f of fields(body.subarray(4))) {
    if (f.no === 1) {
      for (const g of fields(bytes(f))) {
        if (g.no === 1) apiVersion = str(g);
        if (g.no === 2) kind = str(g);
      }
    }
    if (f.no === 2) raw = bytes(f);
  }
  const decoder = DECODERS[`${apiVersion}/${kind}`];
  if (!decoder)
    throw new Error(`the emulator cannot decode protobuf for ${apiVersion}/${kind}`);
  return {apiVersion, kind, ...decoder(raw)};
}
