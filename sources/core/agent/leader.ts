/**
 * Leader election over a `coordination.k8s.io/v1` Lease, as client-go's leaderelection package does it:
 * the holder renews `renewTime` every retry period; a candidate takes the lease over once it has not been
 * renewed for `leaseDurationSeconds` (or its holder released it by clearing `holderIdentity`); every write
 * carries the resourceVersion read, so two candidates never both win. Pure: decides the next write from the
 * Lease read and the time given; the agent's runner sends it.
 */
import type {KubeObject} from '../ports.ts';

/** The fields of a Lease's spec that leader election uses. */
export type LeaseSpec = {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
};

/** The write to send next, or why not. */
export type LeaseStep =
  | {action: `create`; body: KubeObject}
  /** Renew (we hold it) or take over (expired or released): PUT with the resourceVersion read. */
  | {action: `update`; body: KubeObject; takeover: boolean}
  /** Someone else holds a live lease. */
  | {action: `wait`; holder: string; expiresAt: Date};

/** MicroTime as the API writes it: RFC 3339 with six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, `.$1000Z`);
}

function specOf(lease: KubeObject | null): LeaseSpec {
  return ((lease as {spec?: LeaseSpec} | null)?.spec ?? {});
}

/** The holder of a lease, or `` when nobody holds it. */
export function leaseHolder(lease: KubeObject | null): string {
  return specOf(lease).holderIdentity ?? ``;
}

/** Decides what `me` does with the lease as read (null: it does not exist). */
export function leaseStep(lease: KubeObject | null, target: {namespace: string; name: string}, me: string, now: Date, durationSeconds: number): LeaseStep {
  const spec = specOf(lease);
  const stamp = microTime(now);
  if (lease === null) {
    return {
      action: `create`,
      body: {apiVersion: `coordination.k8s.io/v1`, kind: `Lease`, metadata: {name: target.name, namespace: target.namespace}, spec: {holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0}},
    };
  }
  const holder = spec.holderIdentity ?? ``;
  if (holder === me)
    return {action: `update`, takeover: false, body: {...lease, spec: {...spec, holderIdentity: me, leaseDurationSeconds: durationSeconds, renewTime: stamp}}};
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? ``);
  const expiresAt = new Date((Number.isNaN(renewed) ? 0 : renewed) + (spec.leaseDurationSeconds ?? durationSeconds) * 1000);
  if (holder !== `` && expiresAt.getTime() > now.getTime())
    return {action: `wait`, holder, expiresAt};
  return {
    action: `update`,
    takeover: true,
    body: {...lease, spec: {holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: (spec.leaseTransitions ?? 0) + (holder === `` ? 0 : 1)}},
  };
}

/** The lease written on a clean shutdown (client-go's ReleaseOnCancel): nobody holds it, so a candidate takes over at once. */
export function releasedLease(lease: KubeObject, now: Date): KubeObject {
  const spec = specOf(lease);
  const stamp = microTime(now);
  return {...lease, spec: {...spec, holderIdentity: ``, leaseDurationSeconds: 1, renewTime: stamp}};
}
