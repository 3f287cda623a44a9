/** Readable tables for the registry CLI (the JSON output is the API's own objects). */
import type { HistoryEvent, VersionInfo } from '../../core/registry/index.ts';
import { compareGtoSemver, isGtoSemver, type GtoArtifact, type GtoVersion } from '../../core/registry/gto-state.ts';
import { describeTag, gtoTime } from './gto-tags.ts';

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

/** The GTO version standing for registry version `v` (`vN.0.0`), if the tags register it. */
export function gtoVersionOf(gto: GtoArtifact, version: number): GtoVersion | undefined {
  return gto.versions.find((g) => g.registryVersion === version && g.registered);
}

/** GTO versions with no registry version behind them (registered by anyone through tags: v2.0.1, v9.0.0…). */
export function tagOnlyVersions(gto: GtoArtifact, versions: VersionInfo[]): GtoVersion[] {
  const held = new Set(versions.map((v) => v.version));
  return gto.versions.filter((g) => g.registryVersion === null || !held.has(g.registryVersion));
}

function gtoCell(g: GtoVersion | undefined): string {
  if (!g) return '-';
  return `${g.version}${g.deregistered ? ' (deregistered)' : ''}${g.stages.length ? ` [${g.stages.join(', ')}]` : ''}`;
}

/**
 * A stage the registry holds while GTO's tags say nothing of it at all: npm start moves the local
 * registry alone, its tag waiting for the run's committed results (a clone without the tags, or a
 * version served with --git none, are the other ways here). Not a disagreement: the next step.
 */
function awaitsTag(gto: GtoArtifact, stage: string, registryVersion: number | undefined): boolean {
  return registryVersion !== undefined && !gto.stages[stage] && !gto.stagesTagged.includes(stage);
}

function registryStages(versions: VersionInfo[]): Record<string, number> {
  const registry: Record<string, number> = {};
  for (const v of versions) for (const s of v.stages) registry[s] = v.version;
  return registry;
}

/** Where the registry and GTO's tags disagree about a stage, one line each (empty when they agree). */
export function stageDisagreements(gto: GtoArtifact, versions: VersionInfo[]): string[] {
  const registry = registryStages(versions);
  const stages = [...new Set([...Object.keys(registry), ...Object.keys(gto.stages)])].sort();
  const lines: string[] = [];
  for (const stage of stages) {
    const r = registry[stage];
    const g = gto.stages[stage];
    if (g && r !== undefined && g.registryVersion === r) continue;
    if (awaitsTag(gto, stage, r)) continue;
    const says = g
      ? `GTO says ${g.version} (${describeTag(g.assignment)})`
      : gto.stagesTagged.includes(stage)
        ? 'GTO says none (unassigned)'
        : 'GTO has no tag for it';
    lines.push(`${stage}: the registry says ${r === undefined ? 'none' : `v${r}`}, ${says}`);
  }
  return lines;
}

/** Stages the registry holds that no tag mentions yet, one line each with the way to tag them. */
export function stagesAwaitingTags(gto: GtoArtifact, versions: VersionInfo[]): string[] {
  const registry = registryStages(versions);
  return Object.keys(registry)
    .sort()
    .filter((stage) => awaitsTag(gto, stage, registry[stage]))
    .map((stage) => {
      const r = registry[stage];
      return (
        `${stage} v${r}: commit its results (dvc.lock, data.dvc, metrics), then \`npm run registry -- promote ${r} ${stage}\` tags it ` +
        `(a trainer Job's version: \`npm run registry -- import-run ${r}\` first; a clone without tags: git fetch --tags); ` +
        `until then sync-from-tags would move ${stage} back to what the tags say`
      );
    });
}

/** Where a version's test metric was measured: its test rows and the data version (data.dvc's md5) they came from. */
function testRowsCell(v: VersionInfo): string {
  const rows = typeof v.extra?.rows_test === 'number' ? String(v.extra.rows_test) : '-';
  const data = v.data_md5 ? v.data_md5.replace(/\.dir$/, '').slice(0, 8) : '-';
  return rows === '-' && data === '-' ? '-' : `${rows} (${data})`;
}

/**
 * A note when the listed versions were measured on different data: their metrics then come from
 * different test rows, and the column does not rank them.
 */
function testRowsNote(versions: VersionInfo[], metric: string): string[] {
  // A version that recorded neither (older registries) is not counted as another test set.
  const sets = new Set(versions.map(testRowsCell).filter((c) => c !== '-'));
  return sets.size > 1
    ? [
        `the ${metric} column comes from ${sets.size} different test sets (test rows, data version): it ranks only versions measured on the same one; ` +
          "register scores production again on each candidate's own test rows before it promotes (metrics/register.json)",
      ]
    : [];
}

export function formatVersionList(
  model: string,
  where: string,
  versions: VersionInfo[],
  gto?: { dir: string; state: GtoArtifact } | null,
): string {
  if (gto) return formatWithTags(model, where, versions, gto.dir, gto.state);
  if (!versions.length) return `${model} in ${where}: no versions`;
  const metricNames = [...new Set(versions.map((v) => primaryMetric(v)?.name).filter((n): n is string => !!n))];
  const metricHeader = metricNames.length === 1 ? metricNames[0] : 'metric';
  const rows = [['version', 'stages', 'created', 'registered', metricHeader, 'test rows (data)', 'by']];
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
      testRowsCell(v),
      v.registered_by,
    ]);
  }
  return [`${model} in ${where}`, table(rows), ...testRowsNote(versions, metricHeader)].join('\n');
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

/** `show` of a registry version; `gto`: its line about GTO's tags (formatGtoLine), when they were read. */
export function formatVersion(v: VersionInfo, gto?: string): string {
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
      ...(gto === undefined ? [] : [['gto', gto]]),
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

/**
 * `history`; `tags`: the checkout's tag names, to mark an event's tag names git does not hold (a
 * change made with --git none, or not tagged yet), or why they were not checked.
 */
export function formatHistory(model: string, events: HistoryEvent[], tags?: Set<string> | string): string {
  if (!events.length) return `${model}: no history`;
  const shown = (name: string) => (typeof tags === 'object' && !tags.has(name) ? `${name} (no such tag)` : name);
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
      e.tags.map(shown).join(' '),
    ]);
  }
  const unchecked =
    typeof tags === 'string'
      ? `\ntags: the names GTO gives these events, not checked against git (${tags}); in the repository's checkout, history marks those git does not hold`
      : '';
  const missing =
    typeof tags === 'object' && events.some((e) => e.tags.some((t) => !tags.has(t)))
      ? '\n(no such tag): the registry changed without tagging (--git none, or npm start before its results are committed), or the tags are not fetched (git fetch --tags)'
      : '';
  return table(rows) + unchecked + missing;
}

/** `list` beside GTO's tags: a `gto` column, versions that exist only as tags, and stage disagreements. */
function formatWithTags(model: string, where: string, versions: VersionInfo[], dir: string, gto: GtoArtifact): string {
  const title = `${model} in ${where}; git tags of ${dir}`;
  const only = tagOnlyVersions(gto, versions);
  if (!versions.length && !only.length) return `${title}: no versions`;
  const metricNames = [...new Set(versions.map((v) => primaryMetric(v)?.name).filter((n): n is string => !!n))];
  const metricHeader = metricNames.length === 1 ? metricNames[0] : 'metric';
  type Row = { key: string; cells: string[] };
  const rows: Row[] = versions.map((v) => {
    const pm = primaryMetric(v);
    const metric = pm
      ? metricNames.length === 1
        ? formatNumber(pm.value)
        : `${pm.name}=${formatNumber(pm.value)}`
      : '-';
    return {
      key: `v${v.version}.0.0`,
      cells: [
        `v${v.version}`,
        markers(v),
        gtoCell(gtoVersionOf(gto, v.version)),
        shortTime(v.created_at),
        shortTime(v.registered_at),
        metric,
        testRowsCell(v),
        v.registered_by,
      ],
    };
  });
  for (const g of only) {
    const stages = g.stages.length ? ` [${g.stages.join(', ')}]` : '';
    rows.push({
      key: g.version,
      cells: [
        isGtoSemver(g.version) ? g.version : g.version.slice(0, 12),
        '-',
        `tags only${g.deregistered ? ' (deregistered)' : ''}${stages}`,
        '-',
        g.registration ? gtoTime(g.registration.time) : '-',
        '-',
        '-',
        g.registration?.by || g.events[0]?.by || '-',
      ],
    });
  }
  // Highest version first, as GTO lists them; commits assigned without a version last.
  rows.sort((a, b) => {
    const sa = isGtoSemver(a.key);
    const sb = isGtoSemver(b.key);
    if (sa && sb) return compareGtoSemver(b.key, a.key);
    return sa === sb ? (a.key < b.key ? 1 : -1) : sa ? -1 : 1;
  });
  const lines = [
    title,
    table([
      ['version', 'stages', 'gto', 'created', 'registered', metricHeader, 'test rows (data)', 'by'],
      ...rows.map((r) => r.cells),
    ]),
    ...testRowsNote(versions, metricHeader),
  ];
  if (only.length)
    lines.push(
      `tags only: registered with GTO, no bundle in the registry (${only.map((g) => g.version.slice(0, 12)).join(', ')})`,
    );
  const pending = stagesAwaitingTags(gto, versions);
  if (pending.length)
    lines.push('not tagged in git yet (the registry moved alone, as npm start does):', ...pending.map((l) => `  ${l}`));
  const disagree = stageDisagreements(gto, versions);
  if (disagree.length)
    lines.push(
      'stages disagree:',
      ...disagree.map((l) => `  ${l}`),
      "  the tags are the record: `npm run registry -- sync-from-tags` makes the registry follow them; `promote` tags the registry's choice",
    );
  return lines.join('\n');
}

/** A version GTO knows from tags alone (the registry holds no bundle for it). */
export function formatGtoVersion(model: string, g: GtoVersion): string {
  const flags = [g.stages.length ? `[${g.stages.join(', ')}]` : '', g.deregistered ? '(deregistered)' : ''].filter(
    Boolean,
  );
  return [
    `${model} ${g.version}${flags.length ? '  ' + flags.join(' ') : ''}  (git tags only: the registry holds no bundle for it)`,
    ...table([
      ['commit', g.commit],
      [
        'registered',
        g.registration
          ? `${gtoTime(g.registration.time)} by ${g.registration.by || '-'}: ${g.registration.message || '-'}`
          : '- (assigned without a registration)',
      ],
      ...g.events.map((e) => ['tag', `${e.tag}  ${gtoTime(e.time)} by ${e.by || '-'}`]),
    ]).split('\n'),
  ].join('\n');
}

/** What GTO's tags say of registry version `version` (the `gto` line of `show`). */
export function formatGtoLine(g: GtoVersion | undefined, version: number): string {
  if (!g)
    return `no tag: GTO does not know v${version}.0.0 (promote tags it at the commit whose dvc.lock records it; in CI, npm run gh:tag; a trainer Job's version gets that commit from registry -- import-run ${version})`;
  const reg = g.registration!;
  return `${g.version} at ${g.commit.slice(0, 12)} (${describeTag(reg)})${g.deregistered ? ', deregistered' : ''}${g.stages.length ? `; GTO stages: ${g.stages.join(', ')}` : ''}`;
}
