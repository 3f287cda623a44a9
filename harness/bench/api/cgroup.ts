/**
 * A CPU cgroup with a quota: "n cores given" to a server on a host that has fewer free cores than
 * the measurement needs. The kernel's CFS bandwidth control lets the group's processes run at most
 * `cores × period` of CPU time in each period, spread over any of the host's cores. cgroup v1
 * (`/sys/fs/cgroup/cpu`, cpu.cfs_quota_us) and v2 (`/sys/fs/cgroup`, cpu.max) are both read; making
 * a group needs root (or a delegated subtree). The arithmetic and the stat parsing are pure, so
 * they are tested without a cgroup.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CpuStat {
  /** Enforcement periods that elapsed while the group had runnable work. */
  periods: number;
  /** Periods in which the group used up its quota and waited. */
  throttled: number;
  /** Time the group's tasks waited for the next period, seconds. */
  throttled_s: number;
}

/** The quota in µs per period for `cores` (a fraction is fine); at least the kernel's 1 ms. */
export function quotaMicros(cores: number, periodUs: number): number {
  if (!(cores > 0) || !Number.isFinite(cores)) throw new Error(`cores must be a positive number, got ${cores}`);
  return Math.max(1000, Math.round(cores * periodUs));
}

/** cpu.stat of either version: v1 counts throttled time in ns, v2 in µs. */
export function parseCpuStat(text: string): CpuStat {
  const field = (name: string) => {
    const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const throttledS = /^throttled_usec\s/m.test(text) ? field('throttled_usec') / 1e6 : field('throttled_time') / 1e9;
  return { periods: field('nr_periods'), throttled: field('nr_throttled'), throttled_s: throttledS };
}

/** The difference of two readings (what one load slice cost). */
export function statDelta(before: CpuStat, after: CpuStat): CpuStat {
  return {
    periods: after.periods - before.periods,
    throttled: after.throttled - before.throttled,
    throttled_s: after.throttled_s - before.throttled_s,
  };
}

type Layout = { version: 1 | 2; root: string };

const V1_ROOT = '/sys/fs/cgroup/cpu';
const V2_ROOT = '/sys/fs/cgroup';

/** Where a CPU group can be made here, or why not (a sentence to print). */
export function cpuCgroupLayout(): Layout | { why: string } {
  if (existsSync(join(V1_ROOT, 'cpu.cfs_quota_us'))) return { version: 1, root: V1_ROOT };
  const controllers = join(V2_ROOT, 'cgroup.controllers');
  if (existsSync(controllers) && /\bcpu\b/.test(readFileSync(controllers, 'utf8')))
    return { version: 2, root: V2_ROOT };
  return {
    why: `no CPU cgroup controller here (neither ${V1_ROOT}/cpu.cfs_quota_us nor "cpu" in ${controllers})`,
  };
}

export interface CpuGroup {
  path: string;
  /** Write a pid here to move that process (and the children it forks later) into the group. */
  procs: string;
  cores: number;
  periodUs: number;
  stat(): CpuStat;
  /** Remove the group; its processes must have exited. Retries briefly, never throws. */
  remove(): Promise<void>;
}

/** Make `name` under the CPU controller with a quota of `cores`; throws a sentence when it cannot. */
export function createCpuGroup(name: string, cores: number, periodUs = 20_000): CpuGroup {
  const layout = cpuCgroupLayout();
  if ('why' in layout) throw new Error(layout.why);
  const path = join(layout.root, name);
  const quota = quotaMicros(cores, periodUs);
  try {
    mkdirSync(path, { recursive: true });
    if (layout.version === 1) {
      writeFileSync(join(path, 'cpu.cfs_period_us'), String(periodUs));
      writeFileSync(join(path, 'cpu.cfs_quota_us'), String(quota));
    } else {
      // The parent must hand the cpu controller down to its children first.
      writeFileSync(join(layout.root, 'cgroup.subtree_control'), '+cpu');
      writeFileSync(join(path, 'cpu.max'), `${quota} ${periodUs}`);
    }
  } catch (err) {
    throw new Error(
      `cannot make the CPU cgroup ${path} (${(err as Error).message}): run as root, or where cgroups are delegated to you`,
      { cause: err },
    );
  }
  return {
    path,
    procs: join(path, 'cgroup.procs'),
    cores,
    periodUs,
    stat: () => parseCpuStat(readFileSync(join(path, 'cpu.stat'), 'utf8')),
    async remove() {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          rmdirSync(path);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
