/**
 * Three API replicas in one process, as a Kubernetes Service sees them: a prediction answered by
 * one, its label posted to another. They share nothing but PREDICTION_ID_KEYS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, post, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { PredictionIdSigner, parseSigningKeys } from './prediction-id.ts';
import { addPair, emptyCounts, liveFigures, SCORE_BINS } from '../core/model/live-quality.ts';

const K1 = 'k1:first-secret-0123456789-0123456789';
const K2 = 'k2:second-secret-0123456789-0123456789';
const K3 = 'k3:third-secret-0123456789-0123456789';
type Server = Awaited<ReturnType<typeof startTestServer>>;
let a: Server, b: Server, rotated: Server;

before(async () => {
  const { url, root } = await registryWithVersions([1]);
  // a and b: k2 signs, k1 (the previous key) still verifies. rotated: k3 signs, k2 verifies, k1 retired.
  [a, b, rotated] = await Promise.all([
    startTestServer(url, root, { PREDICTION_ID_KEYS: `${K2},${K1}` }),
    startTestServer(url, root, { PREDICTION_ID_KEYS: `${K2},${K1}` }),
    startTestServer(url, root, { PREDICTION_ID_KEYS: `${K3},${K2}` }),
  ]);
});
after(() => Promise.all([a, b, rotated].map((s) => s?.close())));

const instances = (n: number) => Array.from({ length: n }, (_, i) => ({ ...RECORD, distance: 100 + i * 97 }));
const feedback = (srv: Server, prediction_id: string, label: number) =>
  post(`${srv.url}/feedback`, { prediction_id, label });

/** Sum of a counter's samples over replicas, per label set without the replica. */
async function summed(servers: Server[], name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of servers) {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm')))
      out.set(m[1] ?? '', (out.get(m[1] ?? '') ?? 0) + Number(m[2]));
  }
  return out;
}

test('a label posted to another replica joins; a repeat at the same replica is 409; the fleet counters sum to one process', async () => {
  const preds = await post(`${a.url}/v1/models/flight-delay:predict`, { instances: instances(40) });
  assert.equal(preds.status, 200);
  const ids: string[] = preds.json.prediction_ids;
  const probs: number[] = preds.json.predictions.map((p: { probability: number }) => p.probability);
  const labels = ids.map((_, i) => ((i * 7) % 3 === 0 ? 1 : 0));
  const one = emptyCounts('classification');
  for (const [i, id] of ids.entries()) {
    const r = await feedback(i % 2 ? b : rotated, id, labels[i]);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.predicted, probs[i], 'the exact probability the client was answered');
    assert.equal(r.json.model_version, 1);
    addPair(one, labels[i], probs[i], preds.json.predictions[i].threshold);
  }
  const repeat = await feedback(b, ids[1], labels[1]);
  assert.equal(repeat.status, 409);
  assert.equal(repeat.json.error.code, 'duplicate_feedback');
  // Without FEEDBACK_DEDUPE_URL a repeat that reaches another replica joins again (feedback-dedupe.test.ts: with it, 409).
  assert.equal((await feedback(a, ids[1], labels[1])).status, 200);
  addPair(one, labels[1], probs[1], 0.5);

  const all = [a, b, rotated];
  const pairs = [...(await summed(all, 'model_feedback_pairs_total')).values()].reduce((x, y) => x + y, 0);
  assert.equal(pairs, ids.length + 1);
  const bins = await summed(all, 'model_feedback_score_bin_total');
  const fleet = emptyCounts('classification');
  if (fleet.task !== 'classification') return;
  for (const [labels, n] of bins) {
    const bin = Number(/bin="(\d+)"/.exec(labels)![1]);
    assert.ok(bin < SCORE_BINS);
    (/label="1"/.test(labels) ? fleet.positives : fleet.negatives)[bin] += n;
  }
  for (const [labels, n] of await summed(all, 'model_feedback_confusion_total'))
    fleet.confusion[/cell="(\w+)"/.exec(labels)![1] as 'tp'] += n;
  assert.deepEqual(liveFigures(fleet), liveFigures(one), 'summed replica counters = one process holding every pair');
  const served = await summed(all, 'model_drift_served_total');
  const prediction = [...served].filter(([l]) => l.includes('feature="prediction"')).reduce((s, [, n]) => s + n, 0);
  assert.equal(prediction, ids.length, 'every served prediction binned once, on the replica that served it');
});

test('forged, altered and retired-key ids are refused with a reason; rotation accepts the previous key', async () => {
  const fromA = (await post(`${a.url}/predict`, RECORD)).json.prediction_id as string;
  const bytes = Buffer.from(fromA.slice(3), 'base64url');
  bytes.writeDoubleBE(0.999, 20);
  const altered = await feedback(b, `k2.${bytes.toString('base64url')}`, 1);
  assert.equal(altered.status, 404);
  assert.match(altered.json.error.message, /does not verify/);
  const forged = new PredictionIdSigner([{ id: 'k2', secret: Buffer.from('not-the-secret-0123456789-0123456789') }]);
  assert.match((await feedback(b, forged.issue(1, 0.5, 0.5), 1)).json.error.message, /does not verify/);
  const k1 = new PredictionIdSigner(parseSigningKeys(K1));
  assert.equal((await feedback(b, k1.issue(1, 0.5, 0.5), 1)).status, 200, 'k1 is still listed on b');
  const retired = await feedback(rotated, k1.issue(1, 0.5, 0.5), 1);
  assert.equal(retired.status, 404);
  assert.match(retired.json.error.message, /key "k1", which this replica does not hold/);
  // The rollout order rotation needs: a k3 id reaches replicas that do not list k3 yet.
  const fromRotated = (await post(`${rotated.url}/predict`, RECORD)).json.prediction_id as string;
  assert.ok(fromRotated.startsWith('k3.'));
  assert.equal((await feedback(b, fromRotated, 0)).status, 404);
  const expired = new PredictionIdSigner(parseSigningKeys(K2)).issue(1, 0.5, 0.5, Date.now() - 25 * 3_600_000);
  const late = await feedback(b, expired, 1);
  assert.equal(late.status, 404);
  assert.match(late.json.error.message, /has expired \(feedback is accepted for 24 h\)/);
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(metrics, /model_feedback_total\{model="flight-delay",outcome="forged"\} 2/);
  assert.match(metrics, /model_feedback_total\{model="flight-delay",outcome="unknown_key"\} 1/);
  assert.match(metrics, /model_feedback_total\{model="flight-delay",outcome="expired"\} 1/);
});

test('GET /drift and GET /feedback say they show this replica and name the fleet rules', async () => {
  await post(`${a.url}/predict`, RECORD);
  const drift = (await (await fetch(`${a.url}/drift`)).json()) as { scope: string; fleet: { rules: string[] } };
  assert.match(drift.scope, /this replica only/);
  assert.ok(drift.fleet.rules.includes('fleet:model_drift_score'));
  const fb = (await (await fetch(`${a.url}/feedback`)).json()) as { scope: string; fleet: { rules: string[] } };
  assert.match(fb.scope, /this replica only/);
  assert.ok(fb.fleet.rules.includes('fleet:model_live_quality'));
});
