/**
 * `npm run registry -- sync-from-tags`: the git tags are the record; the registry (what the API
 * reads) follows them. Each stage GTO's tags assign (by anyone: `gto assign`, CI, this CLI) is set
 * in the registry to the version GTO shows there; a stage GTO has unassigned is cleared. A stage
 * no tag mentions is left as it is (said so). All or nothing: when any stage cannot follow (GTO
 * shows a version whose bundle the registry does not hold, or an archived one), nothing changes.
 */
import type { Registry } from '../../core/registry/index.ts';
import { describeTag, notTheRegistrys, type GitContext } from './gto-tags.ts';

export interface SyncChange {
  stage: string;
  from: number | null;
  to: number | null;
  /** The tag the change follows. */
  tag: string | null;
}

export interface SyncReport {
  model: string;
  dryRun: boolean;
  changes: SyncChange[];
  /** Stages that cannot follow the tags, and why (then nothing changed). */
  refused: string[];
  /** What was done or would be, line by line. */
  lines: string[];
}

export interface SyncOptions {
  actor?: string;
  source?: string;
  dryRun?: boolean;
  /** Why a version must not serve in `stage` (the CLI's production check), or null. */
  check?: (stage: string, version: number) => Promise<string | null>;
}

const ver = (n: number | null) => (n === null ? '-' : `v${n}`);

export async function syncFromTags(
  registry: Registry,
  model: string,
  ctx: GitContext,
  opts: SyncOptions = {},
): Promise<SyncReport> {
  const gto = ctx.gto;
  const report: SyncReport = { model, dryRun: !!opts.dryRun, changes: [], refused: [], lines: [] };
  const versions = await registry.listVersions(model);
  if (!gto.events.length) {
    report.refused.push(
      `no GTO tag of ${model} in ${ctx.dir}: fetch the tags (git fetch --tags) and run this again; nothing changed`,
    );
    report.lines.push(...report.refused);
    return report;
  }
  // GTO itself fails on such tags (gto show exits 1): the record is unreadable until they are fixed.
  for (const p of gto.problems) report.refused.push(`GTO cannot read the tags: ${p}`);
  if (gto.deprecated)
    report.refused.push(
      `GTO shows ${model} as deprecated (${describeTag([...gto.events].reverse().find((e) => e.action === 'deprecate')!)}); the registry has no deprecation to follow it with`,
    );
  const current: Record<string, number> = {};
  for (const v of versions) for (const s of v.stages) current[s] = v.version;
  const held = new Map(versions.map((v) => [v.version, v]));
  const stages = [...new Set([...Object.keys(current), ...gto.stagesTagged])].sort();
  for (const stage of stages) {
    const now = current[stage] ?? null;
    const shown = gto.stages[stage];
    if (!shown) {
      if (!gto.stagesTagged.includes(stage)) {
        report.lines.push(
          `${stage}: no tag mentions it; left at ${ver(now)} (npm run registry -- promote ${now} ${stage} tags it)`,
        );
        continue;
      }
      const last = [...gto.events].reverse().find((e) => e.stage === stage)!;
      if (now === null) report.lines.push(`${stage}: empty, as GTO shows it`);
      else report.changes.push({ stage, from: now, to: null, tag: last.tag });
      continue;
    }
    const tag = describeTag(shown.assignment);
    const n = shown.registryVersion;
    if (n === null || !held.has(n)) {
      report.refused.push(
        n === null
          ? `${stage}: GTO shows ${shown.version} (${tag}), which is not a registry version (registry version N is GTO's vN.0.0), so the registry holds no bundle for it`
          : `${stage}: GTO shows ${shown.version} (${tag}), but the registry holds no bundle for v${n} (it has ${versions.map((v) => `v${v.version}`).join(', ') || 'none'}); register that model in the registry first`,
      );
      continue;
    }
    if (held.get(n)!.archived) {
      report.refused.push(
        `${stage}: GTO shows ${shown.version} (${tag}), but the registry archived v${n}, and an archived version is not assigned to a stage`,
      );
      continue;
    }
    const registration = gto.versions.find((x) => x.version === shown.version)?.registration ?? null;
    const other = await notTheRegistrys(ctx, held.get(n)!, shown.commit, registration);
    if (other) {
      report.refused.push(`${stage}: GTO shows ${shown.version} (${tag}), but ${other}`);
      continue;
    }
    if (now === n) {
      report.lines.push(`${stage}: v${n}, as GTO shows it`);
      continue;
    }
    const problem = opts.check ? await opts.check(stage, n) : null;
    if (problem) {
      report.refused.push(`${stage}: GTO shows ${shown.version} (${tag}), but ${problem}`);
      continue;
    }
    report.changes.push({ stage, from: now, to: n, tag: shown.assignment.tag });
  }
  const describe = (c: SyncChange) => `${c.stage}: ${ver(c.from)} → ${ver(c.to)}  (following ${c.tag})`;
  if (report.refused.length) {
    report.lines.push(
      ...report.refused.map((r) => `refused: ${r}`),
      `nothing changed${report.changes.length ? ` (it would have: ${report.changes.map(describe).join('; ')})` : ''}`,
    );
    return report;
  }
  if (!report.changes.length) {
    report.lines.push(`the registry already follows GTO's tags of ${model}`);
    return report;
  }
  for (const c of report.changes) {
    if (opts.dryRun) {
      report.lines.push(`would set ${describe(c)}`);
      continue;
    }
    const who = {
      actor: opts.actor,
      source: opts.source ?? 'git-tags',
      reason: `following GTO: ${c.tag}`,
      tags: c.tag ? [c.tag] : [],
    };
    if (c.to === null) await registry.demote(model, c.stage, who);
    else await registry.setStage(model, c.stage, c.to, who);
    report.lines.push(describe(c));
  }
  if (opts.dryRun) report.lines.push('dry run: nothing changed');
  return report;
}
