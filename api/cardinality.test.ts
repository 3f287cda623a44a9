import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, post, registryWithVersions, startTestServer } from './test-support.ts';
import { rejectedFieldLabel } from './routes/predict.ts';
import { SCHEMA } from './test-support.ts';

test('rejected-field labels come from the schema, "(record)" or "(unknown)" only', () => {
  assert.equal(rejectedFieldLabel('distance', SCHEMA), 'distance');
  assert.equal(rejectedFieldLabel('(record)', SCHEMA), '(record)');
  for (const f of ['foo', 'constructor', '__proto__', 'toString', 'x'.repeat(30), '(more unknown fields)']) assert.equal(rejectedFieldLabel(f, SCHEMA), '(unknown)', f);
});

test('/metrics stays bounded: 100,000 unique unknown field names add no series', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root, { BODY_LIMIT_BYTES: String(1 << 20) });
  const scrape = async () => (await (await fetch(`${srv.url}/metrics`)).text());
  try {
    // Every series the attack could legitimately touch exists before the "before" scrape.
    assert.equal((await post(`${srv.url}/predict`, RECORD)).status, 200);
    assert.equal((await post(`${srv.url}/predict`, { ...RECORD, first: 1 })).status, 400);
    assert.equal((await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: [{ ...RECORD, second: 1 }] })).status, 400);
    await scrape();
    const before = await scrape();
    const perRequest = 10_000;
    for (let r = 0; r < 10; r++) {
      const names = Array.from({ length: perRequest }, (_, i) => `k${r}_${i}_${Math.random().toString(36).slice(2, 6)}`);
      const record = Object.fromEntries([...Object.entries(RECORD), ...names.map((n) => [n, 1])]);
      const body = r % 2 === 0 ? record : { instances: [record] };
      const res = await post(`${srv.url}${r % 2 === 0 ? '/predict' : '/v1/models/flight-delay:predict'}`, body);
      assert.equal(res.status, 400);
    }
    const after = await scrape();
    const growth = Buffer.byteLength(after) - Buffer.byteLength(before);
    assert.ok(growth < 4096, `/metrics grew by ${growth} bytes (${Buffer.byteLength(before)} → ${Buffer.byteLength(after)})`);
    assert.doesNotMatch(after, /field="k\d/);
    assert.match(after, /model_rejected_fields_total\{model="flight-delay",field="\(unknown\)"\} \d+/);
  } finally {
    await srv.close();
  }
});
