/**
 * The cardinality attack: requests whose records carry `names` unique unknown field names (in
 * requests of `perRequest`, alternating /predict and the KServe route). Returns the size of
 * /metrics before and after, once every series the attack could legitimately touch exists.
 */
export interface CardinalityResult {
  metrics_bytes_before: number;
  metrics_bytes_after: number;
  statuses: Record<string, number>;
}

export async function cardinalityAttack(o: {
  url: string;
  record: Record<string, unknown>;
  names: number;
  perRequest: number;
  headers?: Record<string, string>;
  model?: string;
}): Promise<CardinalityResult> {
  const headers = { 'content-type': 'application/json', ...o.headers };
  const kserve = `/v1/models/${o.model ?? 'flight-delay'}:predict`;
  const send = (path: string, body: unknown) =>
    fetch(o.url + path, { method: 'POST', headers, body: JSON.stringify(body) }).then(
      async (r) => (await r.arrayBuffer(), r.status),
    );
  const scrape = async () => Buffer.byteLength(await (await fetch(`${o.url}/metrics`, { headers: o.headers })).text());
  await send('/predict', o.record);
  await send('/predict', { ...o.record, first_unknown: 1 });
  await send(kserve, { instances: [{ ...o.record, second_unknown: 1 }] });
  await scrape();
  const before = await scrape();
  const statuses: Record<string, number> = {};
  for (let r = 0, sent = 0; sent < o.names; r++) {
    const n = Math.min(o.perRequest, o.names - sent);
    const names = Array.from({ length: n }, (_, i) => `k${r}_${i}_${Math.random().toString(36).slice(2, 6)}`);
    sent += n;
    const record = Object.fromEntries([...Object.entries(o.record), ...names.map((name) => [name, 1])]);
    const status = r % 2 === 0 ? await send('/predict', record) : await send(kserve, { instances: [record] });
    statuses[status] = (statuses[status] ?? 0) + 1;
  }
  // Anything cached is rendered again by now (MONITORING_CACHE_MS is at most a second or so).
  await new Promise((res) => setTimeout(res, 1100));
  return { metrics_bytes_before: before, metrics_bytes_after: await scrape(), statuses };
}
