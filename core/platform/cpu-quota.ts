/**
 * The cores a CPU cgroup quota allows this process: a Kubernetes pod's `resources.limits.cpu`, a
 * `docker run --cpus`, a systemd `CPUQuota=`. `os.availableParallelism()` counts the cores the
 * process may be scheduled on (its affinity), not the quota, so on a 16-core node a pod limited
 * to 2 CPUs would start 16 API workers under `WORKERS=auto` (or 8 tree-building threads), each
 * throttled. Read from the process's
 * own cgroup and its parents up to the mount (the tightest wins): cgroup v2 `cpu.max`
 * ("200000 100000" or "max 100000"), cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (-1: none).
 * Pure over a file reader, so tested without cgroups.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export type ReadFile = (path: string) => string | null;

const readOrNull: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** `/a/b` → [`/a/b`, `/a`, `/`]. */
function selfAndParents(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => '/' + parts.slice(0, parts.length - i).join('/')).concat('/');
}

function quotaV2(text: string | null): number | null {
  const m = text ? /^(\d+|max)\s+(\d+)/.exec(text.trim()) : null;
  if (!m || m[1] === 'max') return null;
  const period = Number(m[2]);
  return period > 0 ? Number(m[1]) / period : null;
}

function quotaV1(quota: string | null, period: string | null): number | null {
  const q = Number(quota?.trim());
  const p = Number(period?.trim());
  return Number.isFinite(q) && q > 0 && p > 0 ? q / p : null;
}

/**
 * The quota in cores (e.g. 1.5), or null when no quota applies or none can be read.
 * `procSelfCgroup` is the text of /proc/self/cgroup.
 */
export function cgroupCpuLimit(procSelfCgroup: string | null, read: ReadFile = readOrNull): number | null {
  if (!procSelfCgroup) return null;
  const limits: number[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (path === undefined) continue;
    if (controllers === '') {
      // cgroup v2: one hierarchy, mounted at /sys/fs/cgroup
      for (const dir of selfAndParents(path)) {
        const q = quotaV2(read(`/sys/fs/cgroup${dir === '/' ? '' : dir}/cpu.max`));
        if (q !== null) limits.push(q);
      }
    } else if (controllers.split(',').includes('cpu')) {
      // cgroup v1: the cpu controller's mount is named after the controllers it holds
      for (const mount of [`/sys/fs/cgroup/${controllers}`, '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
        let found = false;
        for (const dir of selfAndParents(path)) {
          const base = `${mount}${dir === '/' ? '' : dir}`;
          const quota = read(`${base}/cpu.cfs_quota_us`);
          if (quota === null) continue;
          found = true;
          const q = quotaV1(quota, read(`${base}/cpu.cfs_period_us`));
          if (q !== null) limits.push(q);
        }
        if (found) break;
      }
    }
  }
  return limits.length ? Math.min(...limits) : null;
}

/**
 * The cores this process can keep busy: those it may be scheduled on, no more than its quota
 * allows (at least one). What `WORKERS=auto` starts and what training's threads are sized by.
 */
export function usableCores(
  cores: number = availableParallelism(),
  limit: number | null = cgroupCpuLimit(readOrNull('/proc/self/cgroup')),
): number {
  return Math.max(1, Math.min(cores, limit === null ? cores : Math.floor(limit)));
}
