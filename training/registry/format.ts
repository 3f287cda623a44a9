/** Readable tables for the registry CLI (the JSON output is the API's own objects). */
import type { HistoryEvent, VersionInfo } from '../../core/registry/index.ts';

/** Metric names tried in order when the version does not name its primary metric in `extra.primary_metric`. */
const PRIMARY_METRICS = ['roc_auc', 'pr_auc', 'f1', 'accuracy', 'r2', 'rmse', 'mae'];

function lookup(obj: Record<string, unknown>, dotted: string): unknown {
  return dotted
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), obj);
}

/** The number the list shows per version: `extra.primary_metric` if set, else a well-known metric; at the top level of `metrics` or under `test`. */
export function primaryMetric(v: Pick<VersionInfo, 'metrics' | 'extra'>): { name: string; value: number } | null {
  const named = v.extra.primary_metric;
  const candidates = (typeof named === 'string' ? [named] : PRIMARY_METRICS).flatMap((m) => [m, `test.${m}`]);
  for (const name of candidates) {
    const value = lookup(v.metrics, name);
    if (typeof value === 'number') return { name, value };
  }
  return null;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function shortTime(iso: string | null): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z') : '-';
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
}

function markers(v: VersionInfo): string {
  const m = [...v.stages];
  if (v.archived) m.push('(archived)');
  return m.join(',') || '-';
}

export function formatVersionList(model: string, where: string, versions: VersionInfo[]): string {
  if (!versions.length) return `${model} in ${where}: no versions`;
  const metricNames = [...new Set(versions.map((v) => primaryMetric(v)?.name).filter((n): n is string => !!n))];
  const metricHeader = metricNames.length === 1 ? metricNames[0] : 'metric';
  const rows = [['version', 'stages', 'created', 'registered', metricHeader, 'by']];
  for (const v of [...versions].reverse()) {
    const pm = primaryMetric(v);
    const metric = pm
      ? metricNames.length === 1
        ? formatNumber(pm.value)
        : `${pm.name}=${formatNumber(pm.value)}`
      : '-';
    rows.push([
      `v${v.version}`,
      markers(v),
      shortTime(v.created_at),
      shortTime(v.registered_at),
      metric,
      v.registered_by,
    ]);
  }
  return `${model} in ${where}\n${table(rows)}`;
}

function flatten(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  return Object.entries(obj).flatMap(([k, v]): [string, string][] =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? flatten(v as Record<string, unknown>, `${prefix}${k}.`)
      : [[`${prefix}${k}`, typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)]],
  );
}

function section(title: string, obj: Record<string, unknown>): string[] {
  const pairs = flatten(obj);
  return pairs.length
    ? [
        title,
        ...table(pairs)
          .split('\n')
          .map((l) => '  ' + l),
      ]
    : [`${title}  -`];
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function formatVersion(v: VersionInfo): string {
  const flags = [
    v.stages.length ? `[${v.stages.join(', ')}]` : '',
    v.latest ? '(latest)' : '',
    v.archived ? '(archived)' : '',
  ].filter(Boolean);
  const lines = [
    `${v.model} v${v.version}${flags.length ? '  ' + flags.join(' ') : ''}`,
    ...table([
      ['registered', `${shortTime(v.registered_at)} by ${v.registered_by} via ${v.source}`],
      ['created', shortTime(v.created_at)],
      ['git commit', v.git_commit ?? '-'],
      ['data md5', v.data_md5 ?? '-'],
      ['bundle', `${v.bundle.path}  (${v.bundle.nfiles} files, ${formatBytes(v.bundle.size)}, md5 ${v.bundle.md5})`],
    ]).split('\n'),
    ...section('metrics', v.metrics),
    ...section('params', v.params),
    ...section('extra', v.extra),
    'files',
    ...table(v.bundle.files.map((f) => [f.relpath, formatBytes(f.size), f.md5]))
      .split('\n')
      .map((l) => '  ' + l),
  ];
  return lines.join('\n');
}

const ver = (n: number | null): string => (n === null ? '-' : `v${n}`);

export function formatHistory(model: string, events: HistoryEvent[]): string {
  if (!events.length) return `${model}: no history`;
  const rows = [['#', 'time', 'event', 'stage', 'change', 'actor', 'source', 'reason', 'tags']];
  for (const e of events) {
    const change = e.type === 'archive' ? ver(e.version) : `${ver(e.from)} → ${ver(e.to)}`;
    rows.push([
      String(e.seq),
      shortTime(e.at),
      e.type,
      e.stage ?? '-',
      change,
      e.actor,
      e.source,
      e.reason ?? '-',
      e.tags.join(' '),
    ]);
  }
  return table(rows);
}
