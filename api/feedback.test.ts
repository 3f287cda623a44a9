import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedbackWindow, SeenIds, liveMetrics } from './feedback.ts';

test('seen ids: a repeat is refused, capacity bounds memory by forgetting the oldest', () => {
  const seen = new SeenIds(3);
  assert.deepEqual(
    ['a', 'b', 'a', 'c', 'd'].map((k) => seen.add(k)),
    [true, true, false, true, true],
  );
  assert.equal(seen.size, 3);
  assert.equal(seen.has('a'), false, 'a, the oldest, was forgotten when d came');
  assert.ok(seen.has('b') && seen.has('c') && seen.has('d'));
  assert.equal(seen.add('a'), true);
  assert.equal(seen.has('b'), false);
});

/** Work done on a set's own structures, counted by the stand-ins `observe` puts in its fields. */
interface Work {
  /** get/set/has/delete on a Map. */
  mapCalls: number;
  /** Iterators (keys/values/entries/forEach/for…of) started on a Map. */
  mapIterations: number;
  /** Elements of an array read or written (an array method that walks n elements touches n). */
  slotTouches: number;
}

/**
 * Replace the Map and array fields of `target` with counting stand-ins (same contents, same
 * behaviour) and return the live counts. Fails if there is no Map field to observe, so a change of
 * representation cannot make the test below pass vacuously.
 */
function observe(target: object): Work {
  const work: Work = { mapCalls: 0, mapIterations: 0, slotTouches: 0 };
  class CountingMap<K, V> extends Map<K, V> {
    override get(k: K) {
      work.mapCalls++;
      return super.get(k);
    }
    override set(k: K, v: V) {
      work.mapCalls++;
      return super.set(k, v);
    }
    override has(k: K) {
      work.mapCalls++;
      return super.has(k);
    }
    override delete(k: K) {
      work.mapCalls++;
      return super.delete(k);
    }
    override keys() {
      work.mapIterations++;
      return super.keys();
    }
    override values() {
      work.mapIterations++;
      return super.values();
    }
    override entries() {
      work.mapIterations++;
      return super.entries();
    }
    override forEach(fn: (v: V, k: K, m: Map<K, V>) => void, thisArg?: unknown) {
      work.mapIterations++;
      super.forEach(fn, thisArg);
    }
    override [Symbol.iterator]() {
      work.mapIterations++;
      return super[Symbol.iterator]();
    }
  }
  const isIndex = (p: string | symbol) => typeof p === 'string' && /^\d+$/.test(p);
  const fields = target as Record<string, unknown>;
  let maps = 0;
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Map) {
      fields[key] = new CountingMap(value);
      maps++;
    } else if (Array.isArray(value)) {
      fields[key] = new Proxy(value, {
        get: (t, p, r) => (isIndex(p) && work.slotTouches++, Reflect.get(t, p, r)),
        set: (t, p, v, r) => (isIndex(p) && work.slotTouches++, Reflect.set(t, p, v, r)),
      });
    }
  }
  assert.ok(maps > 0, `no Map field to observe in ${Object.keys(fields).join(', ')}`);
  return work;
}

test('seen ids: an add into a full set does the same small work at capacity 10 as at 10,000 (O(1) eviction, not O(capacity))', () => {
  // Counted, not timed. Walking a Map from its oldest entry (map.keys().next(), for…of) is not O(1)
  // in V8: deleted entries stay as holes the iterator walks until the Map rehashes, which made an
  // old eviction 20–100× slower per record once full. So: no Map iteration per add, and as many
  // Map calls and array elements touched per add whatever the capacity (an array shift or scan
  // would touch O(capacity) elements). Timing lives in `npm run bench:feedback-log`.
  const perAdd = (capacity: number) => {
    const seen = new SeenIds(capacity);
    const work = observe(seen);
    for (let i = 0; i < 3 * capacity; i++) seen.add(`warm-${i}`); // full, wrapped
    const before = { ...work };
    const n = 20_000;
    for (let i = 0; i < n; i++) seen.add(`p-${i}`);
    assert.equal(seen.size, capacity);
    assert.ok(seen.has(`p-${n - 1}`));
    assert.equal(seen.has(`p-${n - 1 - capacity}`), false, 'the oldest was evicted');
    return {
      mapCalls: (work.mapCalls - before.mapCalls) / n,
      mapIterations: (work.mapIterations - before.mapIterations) / n,
      slotTouches: (work.slotTouches - before.slotTouches) / n,
    };
  };
  const small = perAdd(10);
  const large = perAdd(10_000);
  const report = `per add at capacity 10: ${JSON.stringify(small)}; at 10,000: ${JSON.stringify(large)}`;
  assert.equal(large.mapIterations, 0, `add iterates the Map: ${report}`);
  assert.ok(large.mapCalls > 0 && large.mapCalls <= 2 * small.mapCalls, report);
  assert.ok(large.slotTouches <= 2 * small.slotTouches, report);
  assert.ok(large.mapCalls + large.slotTouches <= 10, `a handful of operations per add: ${report}`);
});

test('feedback window keeps the last N pairs', () => {
  const w = new FeedbackWindow(3);
  for (let i = 0; i < 5; i++) w.add({ actual: i, predicted: i + 1, version: 1 });
  const s = w.snapshot();
  assert.equal(w.length, 3);
  assert.deepEqual([...s.actual].sort(), [2, 3, 4]);
});

test('live metrics: classification by hand, regression errors, empty window', () => {
  // y 1 1 0 0, p .9 .4 .6 .1, threshold .5 → tp1 fn1 fp1 tn1
  const c = liveMetrics(
    'classification',
    { actual: Float64Array.from([1, 1, 0, 0]), predicted: Float64Array.from([0.9, 0.4, 0.6, 0.1]) },
    0.5,
  )!;
  assert.equal(c.task, 'classification');
  if (c.task === 'classification') {
    assert.equal(c.accuracy, 0.5);
    assert.equal(c.precision, 0.5);
    assert.equal(c.roc_auc, 0.75);
  }
  const r = liveMetrics(
    'regression',
    { actual: Float64Array.from([10, 20]), predicted: Float64Array.from([12, 17]) },
    0,
  )!;
  if (r.task === 'regression') {
    assert.equal(r.mae, 2.5);
    assert.equal(r.mean_error, -0.5);
  }
  assert.equal(
    liveMetrics('classification', { actual: new Float64Array(0), predicted: new Float64Array(0) }, 0.5),
    null,
  );
  const oneClass = liveMetrics(
    'classification',
    { actual: Float64Array.from([1, 1]), predicted: Float64Array.from([0.2, 0.9]) },
    0.5,
  )!;
  assert.equal(oneClass.task === 'classification' && oneClass.roc_auc, null, 'undefined AUC is null, not NaN');
});

test('POST /feedback joins outcomes to served predictions; unknown ids are 404, repeats 409; live quality reaches /metrics', async () => {
  const { RECORD, post, registryWithVersions, startTestServer } = await import('../harness/testing/api/support.ts');
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root, { FEEDBACK_WINDOW: '100' });
  try {
    const preds = await post(`${srv.url}/v1/models/flight-delay:predict`, {
      instances: Array.from({ length: 6 }, (_, i) => ({ ...RECORD, distance: 100 + i * 500 })),
    });
    const ids: string[] = preds.json.prediction_ids;
    const probs: number[] = preds.json.predictions.map((p: { probability: number }) => p.probability);
    const one = await post(`${srv.url}/feedback`, { prediction_id: ids[0], actual: 40 }); // 40 minutes late → label 1
    assert.equal(one.status, 200);
    assert.equal(one.json.actual, 1);
    assert.equal(one.json.predicted, probs[0]);
    assert.equal((await post(`${srv.url}/feedback`, { prediction_id: ids[0], label: 0 })).status, 409);
    const unknown = await post(`${srv.url}/feedback`, { prediction_id: 'no-such-id', label: 1 });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /unknown/);
    assert.equal((await post(`${srv.url}/feedback`, { prediction_id: ids[1], actual: 'late' })).status, 400);
    const batch = await post(`${srv.url}/feedback`, {
      feedback: ids.slice(1).map((id, i) => ({ prediction_id: id, label: i % 2 })),
    });
    assert.equal(batch.status, 200);
    const summary = (await (await fetch(`${srv.url}/feedback`)).json()) as {
      samples: number;
      live: { accuracy: number };
    };
    assert.equal(summary.samples, 6);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /model_live_quality\{model="flight-delay",metric="accuracy"\} [0-9.]+/);
    assert.match(metrics, /model_live_quality\{model="flight-delay",metric="samples"\} 6/);
    assert.match(metrics, /model_feedback_total\{model="flight-delay",outcome="joined"\} 6/);
    assert.match(metrics, /model_feedback_total\{model="flight-delay",outcome="unknown"\} 1/);
    assert.match(metrics, /model_prediction_error_count\{model="flight-delay"\} 6/);
  } finally {
    await srv.close();
  }
});

test('POST /feedback: an actual outside the target range the model was trained on (bundle.json target_range) is refused, naming the range', async () => {
  const { RECORD, post, registryWithVersions, startTestServer } = await import('../harness/testing/api/support.ts');
  const { url, root } = await registryWithVersions([1], { targetRange: { min: -1440, max: 2880 } });
  const srv = await startTestServer(url, root, { FEEDBACK_WINDOW: '100' });
  try {
    const preds = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: [RECORD, RECORD] });
    const ids: string[] = preds.json.prediction_ids;
    const typo = await post(`${srv.url}/feedback`, { prediction_id: ids[0], actual: 40000 });
    assert.equal(typo.status, 400);
    assert.match(typo.json.error.message, /"actual" 40000 is outside the target's range \[-1440, 2880\]/);
    const batch = await post(`${srv.url}/feedback`, {
      feedback: [
        { prediction_id: ids[0], actual: -1441 },
        { prediction_id: ids[1], actual: 2880 },
      ],
    });
    assert.equal(batch.status, 207);
    assert.deepEqual(
      batch.json.results.map((r: { status: number }) => r.status),
      [400, 200],
    );
    const summary = (await (await fetch(`${srv.url}/feedback`)).json()) as { samples: number };
    assert.equal(summary.samples, 1, 'only the label within the range joined');
    // The refused one was not consumed: corrected, it joins.
    assert.equal((await post(`${srv.url}/feedback`, { prediction_id: ids[0], actual: 12 })).status, 200);
  } finally {
    await srv.close();
  }
});

test('POST /feedback with a multi-class model: labels by class name, live accuracy and macro-F1, per-class fleet counters', async () => {
  const { RECORD, WEATHER, post, registryWithVersions, startTestServer } =
    await import('../harness/testing/api/support.ts');
  const { url, root } = await registryWithVersions([1], { multiclass: true });
  const srv = await startTestServer(url, root, { FEEDBACK_WINDOW: '100' });
  try {
    const preds = await post(`${srv.url}/v1/models/flight-delay:predict`, {
      instances: Array.from({ length: 6 }, (_, i) => ({ ...RECORD, distance: 100 + i * 700 })),
    });
    assert.equal(preds.status, 200);
    const ids: string[] = preds.json.prediction_ids;
    const labels: string[] = preds.json.predictions.map((p: { label: string }) => p.label);
    for (const p of preds.json.predictions) assert.deepEqual(Object.keys(p.probabilities).sort(), WEATHER);
    const wrong = await post(`${srv.url}/feedback`, { prediction_id: ids[0], label: 'hail' });
    assert.equal(wrong.status, 400);
    assert.match(wrong.json.error.message, /"label" must be one of "fog", "rain", "sun"/);
    const numeric = await post(`${srv.url}/feedback`, { prediction_id: ids[0], actual: 3 });
    assert.equal(numeric.status, 400, 'a multi-class model takes class names, not numbers');
    // No outcome at all: the answer names the classes to send, not a number or 0/1.
    const none = await post(`${srv.url}/feedback`, { prediction_id: ids[0] });
    assert.equal(none.status, 400);
    assert.match(none.json.error.message, /"label" must be one of "fog", "rain", "sun"/);
    assert.doesNotMatch(none.json.error.message, /0\/1|finite number/);
    // The first three labels are what was predicted, the last three another class.
    const actual = labels.map((l, i) => (i < 3 ? l : WEATHER[(WEATHER.indexOf(l) + 1) % WEATHER.length]));
    const batch = await post(`${srv.url}/feedback`, {
      feedback: ids.map((id, i) => ({ prediction_id: id, label: actual[i] })),
    });
    assert.equal(batch.status, 200);
    // Each joined result names the classes, beside their indices.
    assert.deepEqual(
      batch.json.results.map((r: { predicted_label: string; actual_label: string; predicted: number }) => [
        r.predicted_label,
        r.actual_label,
        WEATHER[r.predicted],
      ]),
      labels.map((l, i) => [l, actual[i], l]),
    );
    assert.equal((await post(`${srv.url}/feedback`, { prediction_id: ids[0], label: actual[0] })).status, 409);
    const summary = (await (await fetch(`${srv.url}/feedback`)).json()) as {
      samples: number;
      live: { accuracy: number; macro_f1: number };
    };
    assert.equal(summary.samples, 6);
    assert.equal(summary.live.accuracy, 0.5);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    const count = (cls: string, role: string) =>
      Number(
        new RegExp(`model_feedback_class_total\\{[^}]*class="${cls}"[^}]*role="${role}"[^}]*\\} ([0-9.]+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    for (const role of ['actual', 'predicted', 'hit'])
      assert.equal(
        WEATHER.reduce((sum, w) => sum + count(w, role), 0),
        role === 'hit' ? 3 : 6,
        `per-class ${role} counters sum over classes`,
      );
    for (const w of WEATHER) {
      assert.equal(count(w, 'actual'), actual.filter((a) => a === w).length, `actual ${w}`);
      assert.equal(count(w, 'predicted'), labels.filter((l) => l === w).length, `predicted ${w}`);
    }
  } finally {
    await srv.close();
  }
});
