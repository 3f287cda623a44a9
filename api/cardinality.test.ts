import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD, registryWithVersions, startTestServer } from '../harness/testing/api/support.ts';
import { cardinalityAttack } from '../harness/adversarial/api/cardinality.ts';
import { rejectedFieldLabel } from './routes/predict.ts';
import { SCHEMA } from '../harness/testing/api/support.ts';

test('rejected-field labels come from the schema, "(record)" or "(unknown)" only', () => {
  assert.equal(rejectedFieldLabel('distance', SCHEMA), 'distance');
  assert.equal(rejectedFieldLabel('(record)', SCHEMA), '(record)');
  for (const f of ['foo', 'constructor', '__proto__', 'toString', 'x'.repeat(30), '(more unknown fields)'])
    assert.equal(rejectedFieldLabel(f, SCHEMA), '(unknown)', f);
});

test('/metrics stays bounded: 100,000 unique unknown field names add no series', async () => {
  const { url, root } = await registryWithVersions([1]);
  const srv = await startTestServer(url, root, { BODY_LIMIT_BYTES: String(1 << 20) });
  try {
    const r = await cardinalityAttack({ url: srv.url, record: RECORD, names: 100_000, perRequest: 10_000 });
    assert.deepEqual(r.statuses, { 400: 10 });
    const growth = r.metrics_bytes_after - r.metrics_bytes_before;
    assert.ok(growth < 4096, `/metrics grew by ${growth} bytes (${r.metrics_bytes_before} → ${r.metrics_bytes_after})`);
    const after = await (await fetch(`${srv.url}/metrics`)).text();
    assert.doesNotMatch(after, /field="k\d/);
    assert.match(after, /model_rejected_fields_total\{model="flight-delay",field="\(unknown\)"\} \d+/);
  } finally {
    await srv.close();
  }
});
