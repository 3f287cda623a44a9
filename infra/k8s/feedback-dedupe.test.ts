/**
 * The shared feedback dedupe store (components/feedback-dedupe): in every overlay that serves at
 * production scale, one bounded Redis that only the serving API pods may reach, and every serving
 * pod (stable, canary, blue, green) pointed at it with a URL the API accepts; the pre-production
 * twin and staging refuse repeats per replica only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubectlMissing, rendered, type Manifest, type Obj } from './kustomize.ts';
import { loadConfig } from '../../api/config.ts';

const skip = kubectlMissing ?? false;
const APP = 'app.kubernetes.io/name';
const STORE = 'flight-delay-feedback-dedupe';
const WITH_STORE = ['production', 'blue-green', 'canary', 'kube-prometheus'];

const of = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
const env = (d: Manifest, name: string) =>
  d.spec.template.spec.containers.find((c: Obj) => c.name === 'api')?.env?.find((e: Obj) => e.name === name);
const matches = (sel: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(sel).every(([k, v]) => labels[k] === v);

test('one bounded Redis per production-scale overlay, reachable only from the serving API pods', { skip }, () => {
  for (const overlay of WITH_STORE) {
    const ms = rendered(`overlays/${overlay}`);
    const stores = of(ms, 'Deployment').filter((d) => d.metadata.labels?.[APP] === STORE);
    assert.equal(stores.length, 1, `${overlay}: one store`);
    const store = stores[0];
    assert.equal(store.spec.replicas, 1, `${overlay}: one pod (two would split the claims)`);
    assert.equal(store.spec.strategy.type, 'Recreate', `${overlay}: never two at once`);
    const redis = store.spec.template.spec.containers[0];
    const args: string[] = redis.args;
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(arg('--maxmemory-policy'), 'volatile-ttl', `${overlay}: evicts the claims closest to expiry`);
    const maxBytes = Number(/^(\d+)mb$/.exec(arg('--maxmemory'))![1]) * 2 ** 20;
    const limitBytes = Number(/^(\d+)Mi$/.exec(redis.resources.limits.memory)![1]) * 2 ** 20;
    assert.ok(limitBytes >= maxBytes * 1.25, `${overlay}: the memory limit leaves room above maxmemory`);
    assert.equal(arg('--save'), '', `${overlay}: no snapshots (a read-only root; claims are disposable)`);
    assert.ok(
      !/:latest$/.test(redis.image) && /^docker\.io\/library\/redis:7\./.test(redis.image),
      `${overlay}: pinned Redis 7`,
    );

    const svc = of(ms, 'Service').find((s) => s.metadata.name === STORE)!;
    assert.ok(matches(svc.spec.selector, store.spec.template.metadata.labels), `${overlay}: the Service selects it`);
    const port = svc.spec.ports[0].port;

    const policies = of(ms, 'NetworkPolicy').filter((p) =>
      matches(p.spec.podSelector.matchLabels, store.spec.template.metadata.labels),
    );
    assert.equal(policies.length, 1, `${overlay}: a NetworkPolicy guards it`);
    const [rule] = policies[0].spec.ingress;
    assert.equal(policies[0].spec.ingress.length, 1);
    assert.deepEqual(rule.ports, [{ protocol: 'TCP', port }]);

    const api = of(ms, 'Deployment').filter((d) => d.metadata.labels?.[APP] !== STORE);
    for (const d of api) {
      const who = `${overlay}: ${d.metadata.name}`;
      const labels = d.spec.template.metadata.labels;
      const allowed = rule.from.some((f: Obj) => f.podSelector && matches(f.podSelector.matchLabels, labels));
      const url = env(d, 'FEEDBACK_DEDUPE_URL');
      if (labels.track === 'preprod') {
        assert.equal(url, undefined, `${who}: the twin gets no labels and no store`);
        assert.equal(allowed, false, `${who}: may not reach the store`);
        continue;
      }
      assert.equal(url?.value, `redis://${STORE}:${port}`, `${who}: claims in the store`);
      assert.equal(loadConfig({ FEEDBACK_DEDUPE_URL: url.value }).feedbackDedupeUrl, url.value);
      assert.ok(allowed, `${who}: may reach the store`);
    }
  }
});

test('staging (1–2 replicas) has no store: repeats are refused per replica there', { skip }, () => {
  const ms = rendered('overlays/staging');
  assert.ok(!ms.some((m) => m.metadata.name === STORE));
  for (const d of of(ms, 'Deployment')) assert.equal(env(d, 'FEEDBACK_DEDUPE_URL'), undefined);
});
