/**
 * The API protects GET /metrics once API_TOKENS is set, so every scrape must carry the scrape token:
 * each PodMonitoring / ServiceMonitor endpoint authenticates with the Secret key that the pods it
 * scrapes map into METRICS_TOKENS, that Secret holds nothing else the collectors could read, and the
 * GKE managed collectors get read access to that Secret only (admin/metrics-secret-reader.yaml).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { K8S_DIR, OVERLAYS, kubectlMissing, parseManifests, rendered, type Manifest, type Obj } from './kustomize.ts';
import { loadConfig } from '../../api/config.ts';
import { accessChecks, authorize } from '../../api/middleware/auth.ts';

const ENV = 'METRICS_TOKENS';
const API_SECRET = 'flight-delay-api-secrets';
type Ref = { name: string; key: string };

const id = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
const apiContainer = (d: Manifest): Obj => d.spec.template.spec.containers.find((c: Obj) => c.name === 'api');

/** The pods' METRICS_TOKENS source, asserted to be an optional Secret key. */
function metricsTokenRef(d: Manifest): Ref {
  const e = apiContainer(d).env?.find((x: Obj) => x.name === ENV);
  assert.ok(e?.valueFrom?.secretKeyRef, `${id(d)}: ${ENV} comes from a Secret`);
  const { name, key, optional } = e.valueFrom.secretKeyRef;
  assert.equal(optional, true, `${id(d)}: ${ENV} optional (pods start without the Secret)`);
  return { name, key };
}

/** Deployments whose pods a monitor scrapes: PodMonitoring selects pods, ServiceMonitor selects Services. */
function scrapedDeployments(ms: Manifest[], monitor: Manifest): Manifest[] {
  const deployments = ms.filter((m) => m.kind === 'Deployment');
  const sel = monitor.spec.selector.matchLabels;
  if (monitor.kind === 'PodMonitoring') return deployments.filter((d) => matches(sel, d.spec.template.metadata.labels));
  const services = ms.filter((m) => m.kind === 'Service' && matches(sel, m.metadata.labels));
  return deployments.filter((d) => services.some((s) => matches(s.spec.selector, d.spec.template.metadata.labels)));
}

/** The Secret key an endpoint sends as its bearer token, in either CRD's shape. */
function scrapeCredentials(monitor: Manifest, ep: Obj): Ref {
  const where = `${id(monitor)} endpoint ${ep.path}`;
  const auth = ep.authorization;
  assert.ok(auth, `${where}: has authorization`);
  // GMP defaults the type to Bearer; prometheus-operator too. Written out here, case-insensitive upstream.
  assert.equal(String(auth.type).toLowerCase(), 'bearer', `${where}: type Bearer`);
  assert.equal(ep.bearerTokenSecret, undefined, `${where}: no deprecated bearerTokenSecret beside authorization`);
  if (monitor.kind === 'PodMonitoring') {
    // monitoring.googleapis.com/v1 Auth.credentials is a SecretSelector: { secret: { name, key, namespace? } }.
    const s = auth.credentials?.secret;
    assert.ok(s?.name && s?.key, `${where}: credentials.secret.{name,key}`);
    assert.ok(
      s.namespace === undefined || s.namespace === monitor.metadata.namespace,
      `${where}: a PodMonitoring may only use a Secret of its own namespace`,
    );
    return { name: s.name, key: s.key };
  }
  // monitoring.coreos.com/v1 SafeAuthorization.credentials is a core/v1 SecretKeySelector: { name, key }.
  const c = auth.credentials;
  assert.ok(c?.name && c?.key && c.secret === undefined, `${where}: credentials.{name,key}`);
  return { name: c.name, key: c.key };
}

if (kubectlMissing) {
  test(`scrape authorization: SKIPPED — ${kubectlMissing}`, { skip: kubectlMissing }, () => {});
} else {
  describe('every scrape of /metrics authenticates with the key the pods accept as METRICS_TOKENS', () => {
    for (const overlay of OVERLAYS) {
      test(overlay, () => {
        const ms = rendered(`overlays/${overlay}`);
        const monitors = ms.filter((m) => m.kind === 'PodMonitoring' || m.kind === 'ServiceMonitor');
        assert.equal(monitors.length, 1, `${overlay}: one monitor`);
        for (const monitor of monitors) {
          const pods = scrapedDeployments(ms, monitor);
          assert.ok(pods.length > 0, `${id(monitor)} scrapes at least one Deployment`);
          for (const ep of monitor.spec.endpoints) {
            assert.equal(ep.path, '/metrics');
            const sent = scrapeCredentials(monitor, ep);
            for (const d of pods)
              assert.deepEqual(metricsTokenRef(d), sent, `${overlay}: ${id(monitor)} sends what ${id(d)} accepts`);
          }
        }
      });
    }
  });

  test('the scrape Secret holds only the scrape token: no other env of any pod comes from it', () => {
    for (const overlay of OVERLAYS) {
      const ms = rendered(`overlays/${overlay}`);
      const monitor = ms.find((m) => m.kind === 'PodMonitoring' || m.kind === 'ServiceMonitor')!;
      const { name } = scrapeCredentials(monitor, monitor.spec.endpoints[0]);
      assert.notEqual(name, API_SECRET, 'the collectors must not be able to read the prediction and admin tokens');
      const pods = ms.flatMap((m) =>
        m.kind === 'Deployment'
          ? [m.spec.template.spec]
          : m.kind === 'CronJob'
            ? [m.spec.jobTemplate.spec.template.spec]
            : [],
      );
      const users = pods.flatMap((p: Obj) =>
        p.containers.flatMap((c: Obj) =>
          (c.env ?? []).filter((e: Obj) => e.valueFrom?.secretKeyRef?.name === name).map((e: Obj) => e.name),
        ),
      );
      assert.ok(
        users.length > 0 && users.every((n: string) => n === ENV),
        `${overlay}: only ${ENV} reads Secret ${name} (got ${users.join(', ')})`,
      );
    }
  });

  test('the managed collectors (gmp-system/collector) may read the scrape Secret and nothing else; the overlays create no RBAC', async () => {
    const pm = rendered('overlays/production').find((m) => m.kind === 'PodMonitoring')!;
    const ref = scrapeCredentials(pm, pm.spec.endpoints[0]);
    const objs = parseManifests(
      readFileSync(join(K8S_DIR, 'admin/metrics-secret-reader.yaml'), 'utf8'),
      'admin/metrics-secret-reader.yaml',
    );
    const role = objs.find((m) => m.kind === 'Role');
    const binding = objs.find((m) => m.kind === 'RoleBinding');
    assert.ok(role && binding && objs.length === 2, 'one Role and one RoleBinding');
    const rbac = (await import('kubernetes-models/rbac.authorization.k8s.io/v1')) as unknown as Record<
      string,
      new (d: Obj) => { validate(): void }
    >;
    for (const m of objs) new rbac[m.kind](m).validate();
    for (const m of objs)
      assert.equal(
        m.metadata.namespace,
        undefined,
        `${id(m)}: no namespace, applied with -n into each namespace with a PodMonitoring`,
      );
    // The collector gets the Secret and watches it (by field selector on its name).
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['secrets'], resourceNames: [ref.name], verbs: ['get', 'list', 'watch'] },
    ]);
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata.name,
    });
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'collector', namespace: 'gmp-system' }]);
    // CI deploys as roles/container.developer, which may not create RBAC objects: a Role in an overlay would fail every deploy.
    for (const overlay of OVERLAYS) {
      const kinds = new Set(rendered(`overlays/${overlay}`).map((m) => m.kind));
      for (const k of ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'])
        assert.ok(!kinds.has(k), `${overlay} renders no ${k}`);
    }
  });

  test('the env the pods get is the one api/config.ts reads, and the token it carries opens GET /metrics only', () => {
    const d = rendered('overlays/production').find(
      (m) => m.kind === 'Deployment' && m.metadata.name === 'flight-delay-api',
    )!;
    const envName = apiContainer(d).env.find(
      (e: Obj) => e.valueFrom?.secretKeyRef?.key === metricsTokenRef(d).key,
    ).name;
    const token = 'scrape-0123456789abcdef';
    const config = loadConfig({ API_TOKENS: 'predict-0123456789abcdef', [envName]: token });
    assert.deepEqual(config.metricsTokens, [token], `api/config.ts reads ${envName}`);
    const headers = { authorization: `Bearer ${token}` };
    const checks = accessChecks(config);
    assert.doesNotThrow(() => authorize('metrics', headers, checks));
    for (const access of ['predict', 'monitoring', 'admin'] as const)
      assert.throws(() => authorize(access, headers, checks), /forbidden|disabled|not allowed/, access);
  });
}
