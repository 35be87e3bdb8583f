/**
 * What `kubectl pullsecret install agent|refresh` renders: the objects that run this binary inside the
 * cluster, with the least RBAC each mode needs. Pure: plain objects in, plain objects out.
 *
 * The rules are exactly the requests each mode sends (tests/reliability/install.test.ts runs the agent and
 * refresh as a user holding only these rules, and checks that each rule is used and nothing is refused):
 * - agent: list/watch namespaces, ServiceAccounts and secrets (its cache); get (refresh reads the secret it
 *   rewrites)/create/update/delete secrets (copies, refresh, prune) and patch ServiceAccounts (attach; `get` re-reads one whose guarded patch lost a race); get/create/update its Lease in its own namespace.
 * - refresh: list namespaces (ignored namespaces are skipped), get/list/update secrets (the source and its copies).
 */
import type {KubeObject} from '../ports.ts';

export type InstallMode = `agent` | `refresh`;

export type InstallOptions = {
  mode: InstallMode;
  namespace: string;
  image: string;
  /** CronJob schedule (refresh). */
  schedule: string;
};

/** One RBAC rule. */
export type PolicyRule = {apiGroups: string[]; resources: string[]; verbs: string[]};

const NAME = `kubectl-pullsecret`;
const LABELS = {'app.kubernetes.io/name': NAME, 'app.kubernetes.io/managed-by': NAME};

/** The cluster-wide rules of a mode. */
export function clusterRules(mode: InstallMode): PolicyRule[] {
  if (mode === `refresh`) {
    return [
      {apiGroups: [``], resources: [`namespaces`], verbs: [`list`]},
      {apiGroups: [``], resources: [`secrets`], verbs: [`get`, `list`, `update`]},
    ];
  }
  return [
    {apiGroups: [``], resources: [`namespaces`], verbs: [`list`, `watch`]},
    {apiGroups: [``], resources: [`serviceaccounts`], verbs: [`get`, `list`, `watch`, `patch`]},
    {apiGroups: [``], resources: [`secrets`], verbs: [`get`, `list`, `watch`, `create`, `update`, `delete`]},
  ];
}

/** The rules in the install namespace (the agent's Lease). */
export function namespaceRules(mode: InstallMode): PolicyRule[] {
  return mode === `agent` ? [{apiGroups: [`coordination.k8s.io`], resources: [`leases`], verbs: [`get`, `create`, `update`]}] : [];
}

/** The objects to apply, in an order `kubectl apply -f -` accepts (the namespace first). */
export function installManifests(options: InstallOptions): KubeObject[] {
  const {namespace, mode} = options;
  const name = `${NAME}-${mode}`;
  const meta = (objectName: string, namespaced: boolean) => ({name: objectName, ...(namespaced ? {namespace} : {}), labels: {...LABELS, 'app.kubernetes.io/component': mode}});
  const objects: KubeObject[] = [
    {apiVersion: `v1`, kind: `Namespace`, metadata: {name: namespace, labels: LABELS}},
    {apiVersion: `v1`, kind: `ServiceAccount`, metadata: meta(name, true)},
    {apiVersion: `rbac.authorization.k8s.io/v1`, kind: `ClusterRole`, metadata: meta(name, false), rules: clusterRules(mode)},
    {apiVersion: `rbac.authorization.k8s.io/v1`, kind: `ClusterRoleBinding`, metadata: meta(name, false), roleRef: {apiGroup: `rbac.authorization.k8s.io`, kind: `ClusterRole`, name}, subjects: [{kind: `ServiceAccount`, name, namespace}]},
  ];
  if (namespaceRules(mode).length > 0) {
    objects.push(
      {apiVersion: `rbac.authorization.k8s.io/v1`, kind: `Role`, metadata: meta(name, true), rules: namespaceRules(mode)},
      {apiVersion: `rbac.authorization.k8s.io/v1`, kind: `RoleBinding`, metadata: meta(name, true), roleRef: {apiGroup: `rbac.authorization.k8s.io`, kind: `Role`, name}, subjects: [{kind: `ServiceAccount`, name, namespace}]},
    );
  }
  const securityContext = {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [`ALL`]}, seccompProfile: {type: `RuntimeDefault`}};
  const podEnv = [{name: `POD_NAMESPACE`, valueFrom: {fieldRef: {fieldPath: `metadata.namespace`}}}];
  if (mode === `agent`) {
    objects.push({
      apiVersion: `apps/v1`,
      kind: `Deployment`,
      metadata: meta(name, true),
      spec: {
        replicas: 2,
        selector: {matchLabels: {'app.kubernetes.io/name': NAME, 'app.kubernetes.io/component': mode}},
        template: {
          metadata: {labels: {...LABELS, 'app.kubernetes.io/component': mode}},
          spec: {
            serviceAccountName: name,
            containers: [{
              name: `agent`,
              image: options.image,
              args: [`agent`, `--log-format`, `json`, `--lease-namespace`, namespace, `--listen-address`, `:8080`],
              env: podEnv,
              ports: [{name: `metrics`, containerPort: 8080}],
              livenessProbe: {httpGet: {path: `/healthz`, port: `metrics`}},
              readinessProbe: {httpGet: {path: `/readyz`, port: `metrics`}},
              resources: {requests: {cpu: `10m`, memory: `64Mi`}, limits: {memory: `256Mi`}},
              securityContext,
            }],
          },
        },
      },
    });
  } else {
    objects.push({
      apiVersion: `batch/v1`,
      kind: `CronJob`,
      metadata: meta(name, true),
      spec: {
        schedule: options.schedule,
        concurrencyPolicy: `Forbid`,
        jobTemplate: {spec: {backoffLimit: 2, template: {
          metadata: {labels: {...LABELS, 'app.kubernetes.io/component': mode}},
          spec: {
            serviceAccountName: name,
            restartPolicy: `OnFailure`,
            containers: [{name: `refresh`, image: options.image, args: [`refresh`, `-A`], env: podEnv, resources: {requests: {cpu: `10m`, memory: `64Mi`}, limits: {memory: `256Mi`}}, securityContext}],
          },
        }}},
      },
    });
  }
  return objects;
}
