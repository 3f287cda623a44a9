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

/**
 * `window`: only the samples taken within it (µs on the profile's monotonic clock), e.g. the load
 * run, so start-up (module loading, model warm-up) and shutdown are left out.
 */
export function summarizeProfile(
  profile: CpuProfile,
  options: { topN?: number; window?: { fromUs: number; toUs: number } } = {},
): ProfileSummary {
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
    if (options.window && (at < options.window.fromUs || at > options.window.toUs)) return;
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
