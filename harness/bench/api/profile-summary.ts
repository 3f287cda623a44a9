/**
 * Where a server's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof`): the top functions by
 * self time, and the busy time split by concern. A sample is charged to the innermost frame whose
 * source says what it is for (a native builtin such as `hash` or `writev` is charged to the
 * JavaScript that called it), so the shares add up to the busy time. Idle samples are left out.
 * Pure: tested on a hand-built profile.
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** µs on the monotonic clock (CLOCK_MONOTONIC on Linux, as process.hrtime in any process). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Concerns in the order they are reported; `rules` decides which a frame belongs to. */
export const CATEGORIES = [
  'HTTP & sockets (node core)',
  'request handling (koa, middleware, routes, batcher)',
  'body reading & JSON',
  'auth',
  'validation (records → table)',
  'feature encoding',
  'forward pass',
  'logging',
  'metrics (prom-client)',
  'drift / monitoring',
  'prediction ids & feedback',
  'garbage collection',
  'other / unattributed',
] as const;
export type Category = (typeof CATEGORIES)[number];

const RULES: [RegExp, Category][] = [
  [/\/node_modules\/prom-client\/|\/api\/prometheus\.ts|\/api\/(cluster|fleet)-metrics\.ts/, 'metrics (prom-client)'],
  [/\/api\/drift-|\/core\/drift\/|\/api\/output-health\.ts|\/api\/alerts\.ts/, 'drift / monitoring'],
  [/\/api\/(prediction-id|fixed-hmac)\.ts|\/api\/feedback/, 'prediction ids & feedback'],
  [/\/core\/platform\/log\.ts|\/api\/middleware\/request-summary\.ts/, 'logging'],
  [/\/api\/middleware\/auth\.ts/, 'auth'],
  [/\/api\/middleware\/body\.ts/, 'body reading & JSON'],
  [/\/core\/data\/|\/node_modules\/zod\//, 'validation (records → table)'],
  [/\/core\/model\/(features|tree-inputs|time-of-day|cross)/, 'feature encoding'],
  [/\/core\/model\/|\/node_modules\/@tensorflow\//, 'forward pass'],
  [
    /\/node_modules\/(koa|koa-compose|on-finished|statuses|type-is|mime-types|content-type|cookies|delegates|accepts|vary|http-errors|encodeurl|escape-html|fresh|only|parseurl|destroy|ee-first)\/|\/api\/|\/harness\/bench\/api\/trivial-server\.ts/,
    'request handling (koa, middleware, routes, batcher)',
  ],
  // Hashing and buffers are charged to whoever called them (prediction ids, auth).
  [/^node:(?!(internal\/)?(crypto|buffer))/, 'HTTP & sockets (node core)'],
];

const JSON_BUILTINS = new Set(['parse', 'stringify', 'JSONParse', 'JSONStringify']);

/** The concern of one frame, or null when the frame says nothing (native code without a source). */
export function categoryOf(frame: CpuProfileNode['callFrame']): Category | 'idle' | null {
  const { functionName: fn, url } = frame;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)' || fn === '(root)') return null;
  if (!url) return JSON_BUILTINS.has(fn) ? 'body reading & JSON' : null;
  for (const [re, c] of RULES) if (re.test(url)) return c;
  return null;
}

export interface ProfileSummary {
  busy_ms: number;
  idle_ms: number;
  categories: { category: Category; ms: number; share: number }[];
  top: { function: string; where: string; self_ms: number; share: number }[];
}

const shortUrl = (url: string) => url.replace(/^file:\/\/.*?\/(node_modules|api|core|harness)\//, '$1/');

export interface TimeWindow {
  fromUs: number;
  toUs: number;
}

/**
 * `window`: only the samples taken within it (µs on the profile's monotonic clock), e.g. the load
 * run, so start-up (module loading, model warm-up) and shutdown are left out; `windows`: within any
 * of them (a server loaded in several interleaved slices).
 */
export function summarizeProfile(
  profile: CpuProfile,
  options: { topN?: number; window?: TimeWindow; windows?: readonly TimeWindow[] } = {},
): ProfileSummary {
  const windows = options.windows ?? (options.window ? [options.window] : null);
  const outside = (at: number) => windows !== null && !windows.some((w) => at >= w.fromUs && at <= w.toUs);
  const topN = options.topN ?? 15;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const charged = new Map<number, Category | 'idle'>();
  const chargeOf = (id: number): Category | 'idle' => {
    const known = charged.get(id);
    if (known) return known;
    let c: Category | 'idle' | null = null;
    for (let at: number | undefined = id; at !== undefined && c === null; at = parent.get(at))
      c = categoryOf(byId.get(at)!.callFrame);
    const result = c ?? 'other / unattributed';
    charged.set(id, result);
    return result;
  };
  // timeDeltas[i] is the time since sample i − 1: the time sample i stands for.
  const selfUs = new Map<number, number>();
  const catUs = new Map<Category | 'idle', number>();
  let at = profile.startTime;
  let inside = 0;
  profile.samples.forEach((id, i) => {
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    at += profile.timeDeltas[i] ?? 0;
    if (outside(at)) return;
    inside++;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    const c = chargeOf(id);
    catUs.set(c, (catUs.get(c) ?? 0) + dt);
  });
  if (inside === 0)
    throw new Error(
      `the profile has no sample in the window asked for (${profile.samples.length} samples in all); was it taken during the load run?`,
    );
  const idle = catUs.get('idle') ?? 0;
  let busy = 0;
  for (const [c, us] of catUs) if (c !== 'idle') busy += us;
  const share = (us: number) => (busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0);
  // Functions are merged by name and place (V8 keeps one node per call path).
  const fns = new Map<string, { function: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === '(idle)') continue;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '(native)';
    const key = `${f.functionName}@${where}`;
    const e = fns.get(key) ?? { function: f.functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    fns.set(key, e);
  }
  return {
    busy_ms: Math.round(busy / 100) / 10,
    idle_ms: Math.round(idle / 100) / 10,
    categories: CATEGORIES.map((category) => ({
      category,
      ms: Math.round((catUs.get(category) ?? 0) / 100) / 10,
      share: share(catUs.get(category) ?? 0),
    })).filter((c) => c.ms > 0),
    top: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ function: f.function, where: f.where, self_ms: Math.round(f.us / 100) / 10, share: share(f.us) })),
  };
}

/** Both summaries as Markdown tables, the API's share beside the trivial server's. */
export function profileMarkdown(api: ProfileSummary, trivial: ProfileSummary | null): string {
  const lines = ['| concern | API % of busy | trivial % |', '|---|---:|---:|'];
  for (const c of CATEGORIES) {
    const a = api.categories.find((x) => x.category === c)?.share ?? 0;
    const t = trivial?.categories.find((x) => x.category === c)?.share ?? 0;
    if (a || t) lines.push(`| ${c} | ${a} | ${trivial ? t : '–'} |`);
  }
  lines.push('', '| API: top self time | where | % of busy |', '|---|---|---:|');
  for (const f of api.top.slice(0, 15)) lines.push(`| ${f.function} | ${f.where} | ${f.share} |`);
  return lines.join('\n');
}

export interface PerRequestDiff {
  /** µs of busy CPU per request in each profile, and b − a. */
  busy_us: { a: number; b: number; delta: number };
  categories: { category: Category; a_us: number; b_us: number; delta_us: number }[];
  /** The functions whose self time per request differs most between the two, largest first. */
  functions: { function: string; where: string; a_us: number; b_us: number; delta_us: number }[];
}

/**
 * Two profiles of the same server code under the same load but one setting apart (e.g. without and
 * with API_TOKENS), per request: shares of busy time cannot show where extra microseconds went,
 * since every share moves when one part grows. Needs summaries with every function (topN: Infinity).
 */
export function perRequestDiff(
  a: { summary: ProfileSummary; requests: number },
  b: { summary: ProfileSummary; requests: number },
  topN = 15,
): PerRequestDiff {
  const r1 = (x: number) => Math.round(x * 100) / 100;
  const perA = (ms: number) => (ms * 1000) / Math.max(1, a.requests);
  const perB = (ms: number) => (ms * 1000) / Math.max(1, b.requests);
  const cat = (s: ProfileSummary, c: Category) => s.categories.find((x) => x.category === c)?.ms ?? 0;
  const fns = new Map<string, { function: string; where: string; a_us: number; b_us: number }>();
  const add = (s: ProfileSummary, side: 'a_us' | 'b_us', per: (ms: number) => number) => {
    for (const f of s.top) {
      const key = `${f.function}@${f.where}`;
      const e = fns.get(key) ?? { function: f.function, where: f.where, a_us: 0, b_us: 0 };
      e[side] += per(f.self_ms);
      fns.set(key, e);
    }
  };
  add(a.summary, 'a_us', perA);
  add(b.summary, 'b_us', perB);
  return {
    busy_us: {
      a: r1(perA(a.summary.busy_ms)),
      b: r1(perB(b.summary.busy_ms)),
      delta: r1(perB(b.summary.busy_ms) - perA(a.summary.busy_ms)),
    },
    categories: CATEGORIES.map((category) => {
      const x = perA(cat(a.summary, category));
      const y = perB(cat(b.summary, category));
      return { category, a_us: r1(x), b_us: r1(y), delta_us: r1(y - x) };
    }).filter((c) => c.a_us || c.b_us),
    functions: [...fns.values()]
      .map((f) => ({ ...f, delta_us: f.b_us - f.a_us }))
      .sort((x, y) => Math.abs(y.delta_us) - Math.abs(x.delta_us))
      .slice(0, topN)
      .map((f) => ({ ...f, a_us: r1(f.a_us), b_us: r1(f.b_us), delta_us: r1(f.delta_us) })),
  };
}

/** The per-request difference as Markdown: concerns, then the functions that moved most. */
export function diffMarkdown(d: PerRequestDiff, labels: [string, string]): string {
  const [la, lb] = labels;
  const lines = [
    `| concern | ${la} µs/req | ${lb} µs/req | Δ |`,
    '|---|---:|---:|---:|',
    `| busy CPU (sampled) | ${d.busy_us.a} | ${d.busy_us.b} | ${d.busy_us.delta} |`,
  ];
  for (const c of d.categories) lines.push(`| ${c.category} | ${c.a_us} | ${c.b_us} | ${c.delta_us} |`);
  lines.push('', `| function | where | ${la} µs/req | ${lb} µs/req | Δ |`, '|---|---|---:|---:|---:|');
  for (const f of d.functions) lines.push(`| ${f.function} | ${f.where} | ${f.a_us} | ${f.b_us} | ${f.delta_us} |`);
  return lines.join('\n');
}
