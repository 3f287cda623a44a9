import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelShare, readModelTotals } from './model-time.ts';

const exposition = (
  seconds: number,
  calls: number,
  records: number,
) => `# HELP model_inference_duration_seconds Time of one model call (a coalesced batch)
# TYPE model_inference_duration_seconds histogram
model_inference_duration_seconds_bucket{le="0.001",model="flight-delay"} ${calls}
model_inference_duration_seconds_sum{model="flight-delay"} ${seconds}
model_inference_duration_seconds_count{model="flight-delay"} ${calls}
model_batch_size_bucket{le="1",model="flight-delay"} ${calls}
model_batch_size_sum{model="flight-delay"} ${records}
model_batch_size_count{model="flight-delay"} ${calls}
http_request_duration_seconds_sum{route="/predict"} 99
`;

test('the totals are read from the two histograms only, summed over label sets', () => {
  assert.deepEqual(readModelTotals(exposition(0.5, 100, 150)), { seconds: 0.5, calls: 100, records: 150 });
  const two = exposition(0.5, 100, 150) + 'model_inference_duration_seconds_sum{model="other"} 0.25\n';
  assert.equal(readModelTotals(two).seconds, 0.75);
  assert.deepEqual(readModelTotals('nothing here'), { seconds: 0, calls: 0, records: 0 });
});

test("the model's share per request is the difference of two readings over the answered requests", () => {
  // 2,000 requests answered in 1,600 calls (2,000 records) taking 0.04 s: 20 µs a request, 1.25 records a call.
  const share = modelShare(
    readModelTotals(exposition(0.01, 400, 400)),
    readModelTotals(exposition(0.05, 2000, 2400)),
    2000,
  );
  assert.deepEqual(share, { us_per_request: 20, records_per_call: 1.25, calls: 1600 });
  assert.equal(modelShare(null, readModelTotals(exposition(1, 1, 1)), 10), null, 'no first reading');
  assert.equal(
    modelShare(readModelTotals(exposition(1, 5, 5)), readModelTotals(exposition(1, 5, 5)), 10),
    null,
    'no calls between',
  );
  assert.equal(
    modelShare(readModelTotals(exposition(0, 0, 0)), readModelTotals(exposition(1, 5, 5)), 0),
    null,
    'no requests',
  );
});
