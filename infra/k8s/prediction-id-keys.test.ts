/**
 * Every pod behind one Service must sign prediction ids with the same key (PREDICTION_ID_KEYS from
 * one Secret key), or a label posted to another pod is refused; production, at 3–12 replicas,
 * must not start a pod without it; the pre-production twin keeps a key of its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OVERLAYS, kubectlMissing, rendered, type Obj } from './kustomize.ts';
import { loadConfig } from '../../api/config.ts';

const skip = kubectlMissing ?? false;
/** The feedback dedupe store (components/feedback-dedupe): a Redis, not a serving pod. */
const DEDUPE_STORE = 'flight-delay-feedback-dedupe';

test(
  'PREDICTION_ID_KEYS: one Secret key for every serving pod, required in production, none for the twin',
  { skip },
  () => {
    for (const overlay of OVERLAYS) {
      const deployments = rendered(`overlays/${overlay}`).filter(
        (m) => m.kind === 'Deployment' && m.metadata.labels?.['app.kubernetes.io/name'] !== DEDUPE_STORE,
      );
      for (const d of deployments) {
        const who = `${overlay}: ${d.metadata.name}`;
        const api = d.spec.template.spec.containers.find((c: Obj) => c.name === 'api');
        const e = api.env?.find((x: Obj) => x.name === 'PREDICTION_ID_KEYS');
        if (d.metadata.name.endsWith('-preprod')) {
          assert.equal(e, undefined, `${who}: the twin signs with its own random key`);
          continue;
        }
        assert.deepEqual(
          { name: e?.valueFrom?.secretKeyRef?.name, key: e?.valueFrom?.secretKeyRef?.key, value: e?.value },
          { name: 'flight-delay-api-secrets', key: 'prediction-id-keys', value: undefined },
          `${who}: from the Secret, never a literal`,
        );
        if (overlay === 'production' && d.spec.template.metadata.labels.track === 'stable')
          assert.equal(e.valueFrom.secretKeyRef.optional, false, `${who}: required`);
      }
    }
  },
);

test('the documented way to make the key gives a value the API accepts', () => {
  // infra/README.md: --from-literal=prediction-id-keys="k1:$(openssl rand -base64 32)"
  const config = loadConfig({ PREDICTION_ID_KEYS: 'k1:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cQ==' });
  assert.deepEqual(
    config.predictionIdKeys?.map((k) => k.id),
    ['k1'],
  );
});
