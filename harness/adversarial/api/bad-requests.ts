/**
 * Malformed and hostile requests, the same seeded set on every run: broken JSON, wrong content
 * types, non-objects, wrong types and extreme values, inherited names (`__proto__`,
 * `constructor`), 100,000-deep values, thousands of unknown fields, bodies over the limit, bad
 * dates and zones, bad feedback. None may get a 5xx, and no error answer may exceed 16 KB.
 */
import { seededRandom } from '../../../core/platform/random.ts';

export interface BadRequest {
  path: string;
  contentType: string | null;
  body: string;
  headers?: Record<string, string>;
}

export interface BadRequestsResult {
  sent: number;
  five_xx: number;
  statuses: Record<string, number>;
  max_error_body_bytes: number;
  examples_5xx: string[];
}

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

/** Hostile record bodies around a valid `record`. */
function recordBodies(record: Record<string, unknown>): string[] {
  const json = JSON.stringify(record);
  const inner = json.slice(1, -1);
  const withField = (k: string, v: string) => `{${inner},"${k}":${v}}`;
  const fields = Object.keys(record);
  const out = [
    '',
    ' ',
    '{',
    '{"a":',
    json.slice(0, -1),
    json + 'x',
    `${json}${json}`,
    "{'a':1}",
    'NaN',
    'null',
    'true',
    '0',
    '"text"',
    '[]',
    `[${json}]`,
    withField('__proto__', '{"polluted":1}'),
    withField('constructor', '{}'),
    withField('toString', '1'),
    withField('hasOwnProperty', 'null'),
    withField('foo', '1'),
    withField('deep', deep(100_000)),
    withField('x'.repeat(10_000), '1'),
    `{${inner},${Array.from({ length: 5000 }, (_, i) => `"u${i}":${i}`).join(',')}}`,
    withField('pad', JSON.stringify('p'.repeat(1_100_000))),
  ];
  for (const f of fields) {
    for (const v of [
      'null',
      '""',
      '1e308',
      '-1e308',
      '-0',
      'true',
      '[]',
      '{}',
      JSON.stringify('x'.repeat(100_000)),
      '"\\u0000"',
      '"😀"',
      deep(50_000),
      '"2001-02-30"',
      '"2001-01-09T14:35:00+99:99"',
      '"2001-01-09T14:35:00-14:01"',
      '99999999999999',
      '"NaN"',
    ]) {
      out.push(JSON.stringify({ ...record, [f]: '__V__' }).replace('"__V__"', v));
    }
  }
  return out;
}

function feedbackBodies(): string[] {
  return [
    '{}',
    '{"prediction_id":""}',
    `{"prediction_id":"${'i'.repeat(100)}","label":1}`,
    '{"prediction_id":"nope","label":2}',
    '{"prediction_id":"nope","actual":"late"}',
    `{"prediction_id":"nope","label":${deep(400_000)}}`,
    `{"prediction_id":"nope","actual":${deep(100_000)}}`,
    '{"feedback":[]}',
    '{"feedback":{}}',
    `{"feedback":[${Array(1001).fill('{"prediction_id":"a","label":1}').join(',')}]}`,
    '{"feedback":[null,1,"x",[]]}',
    '{"prediction_id":"nope","label":1,"__proto__":{"x":1}}',
    '{"prediction_id":{"toString":1},"label":1}',
    '{"prediction_id":"nope","label":true,"actual":1}',
    // Shaped like a signed prediction id (api/prediction-id.ts) but forged: refused, never joined.
    `{"prediction_id":"k1.${'A'.repeat(70)}","label":1}`,
    `{"prediction_id":"${'r'.repeat(16)}.${'_'.repeat(70)}","actual":3}`,
  ];
}

export function badRequests(opts: {
  record: Record<string, unknown>;
  model?: string;
  count: number;
  seed?: number;
}): BadRequest[] {
  const r = seededRandom(opts.seed ?? 20261129);
  const records = recordBodies(opts.record);
  const kserve = `/v1/models/${opts.model ?? 'flight-delay'}:predict`;
  const types = [
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    null,
    'application/json; charset=latin1',
    'application/problem+json',
  ];
  const pick = <T>(a: T[]) => a[Math.floor(r() * a.length)];
  const type = () => (r() < 0.85 ? 'application/json' : pick(types));
  const routes: (() => BadRequest)[] = [
    () => ({ path: '/predict', contentType: type(), body: pick(records) }),
    () => {
      const k = r();
      const body =
        k < 0.6
          ? `{"instances":[${pick(records) || 'null'}]}`
          : k < 0.7
            ? '{"instances":{}}'
            : k < 0.8
              ? `{"instances":[],"extra":${deep(1000)}}`
              : k < 0.9
                ? `{"instances":[${Array(1001).fill('{}').join(',')}]}`
                : pick(records);
      return { path: kserve, contentType: type(), body };
    },
    () => ({ path: '/feedback', contentType: type(), body: pick(feedbackBodies()) }),
    () => ({
      path: '/admin/reload',
      contentType: type(),
      body: '{}',
      headers: pick([
        {},
        { authorization: 'Bearer x' },
        { authorization: 'Basic abc' },
        { authorization: `Bearer ${'t'.repeat(5000)}` },
      ]),
    }),
  ];
  // Every route gets the same share: count / 4 each, interleaved.
  return Array.from({ length: opts.count }, (_, i) => routes[i % routes.length]());
}

export async function sendBadRequests(
  url: string,
  requests: BadRequest[],
  concurrency = 8,
): Promise<BadRequestsResult> {
  const result: BadRequestsResult = { sent: 0, five_xx: 0, statuses: {}, max_error_body_bytes: 0, examples_5xx: [] };
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const q = requests[next++];
      const res = await fetch(url + q.path, {
        method: 'POST',
        headers: { ...(q.contentType ? { 'content-type': q.contentType } : {}), ...q.headers },
        body: q.body,
      });
      const bytes = (await res.arrayBuffer()).byteLength;
      result.sent++;
      result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
      if (res.status >= 400) result.max_error_body_bytes = Math.max(result.max_error_body_bytes, bytes);
      if (res.status >= 500) {
        result.five_xx++;
        if (result.examples_5xx.length < 5) result.examples_5xx.push(`${res.status} ${q.path} ${q.body.slice(0, 120)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}
