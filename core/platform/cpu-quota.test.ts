import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { usableCores, cgroupCpuLimit } from './cpu-quota.ts';

const files = (map: Record<string, string>) => (path: string) => map[path] ?? null;

test('cgroup v2: cpu.max of the own group and its parents, the tightest wins; "max" is no quota', () => {
  const cgroup = '0::/kubepods/pod1/ctr\n';
  assert.equal(
    cgroupCpuLimit(
      cgroup,
      files({
        '/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max': '150000 100000\n',
        '/sys/fs/cgroup/kubepods/pod1/cpu.max': '200000 100000\n',
        '/sys/fs/cgroup/kubepods/cpu.max': 'max 100000\n',
      }),
    ),
    1.5,
  );
  assert.equal(cgroupCpuLimit(cgroup, files({ '/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max': 'max 100000' })), null);
  assert.equal(cgroupCpuLimit('0::/\n', files({ '/sys/fs/cgroup/cpu.max': '50000 100000' })), 0.5);
});

test('cgroup v1: cfs_quota_us over cfs_period_us under the cpu controller mount; -1 is no quota', () => {
  const cgroup = '4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n';
  const read = files({
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '300000\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us': '-1\n',
    '/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_period_us': '100000\n',
  });
  assert.equal(cgroupCpuLimit(cgroup, read), 3);
  // the cpu controller mounted alone, as on this kind of host
  const alone = files({
    '/sys/fs/cgroup/cpu/b/cpu.cfs_quota_us': '12000',
    '/sys/fs/cgroup/cpu/b/cpu.cfs_period_us': '20000',
  });
  assert.equal(cgroupCpuLimit('1:cpu:/b\n', alone), 0.6);
  assert.equal(cgroupCpuLimit('1:cpu:/\n', files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1' })), null);
});

test('nothing readable is no quota, never an error', () => {
  assert.equal(cgroupCpuLimit(null), null);
  assert.equal(
    cgroupCpuLimit('garbage\n', () => null),
    null,
  );
  assert.equal(
    cgroupCpuLimit('0::/x\n', () => 'not a number'),
    null,
  );
});

test('usable cores (WORKERS=auto, training threads): one per core, no more than the quota allows, at least one', () => {
  assert.equal(usableCores(16, null), 16);
  assert.equal(usableCores(16, 2), 2);
  assert.equal(usableCores(16, 1.5), 1);
  assert.equal(usableCores(2, 0.3), 1);
  assert.equal(usableCores(2, 8), 2);
});

// The real kernel: a v1 cpu group with a quota of one core, where this host has one (root).
const V1 = '/sys/fs/cgroup/cpu';
const group = `${V1}/gitops-ml-test-${process.pid}`;
const canMakeGroup = (() => {
  try {
    mkdirSync(group);
    return true;
  } catch {
    return false;
  }
})();

test(
  'a process in a cgroup with a one-core quota reads a limit of 1 (skipped without a writable v1 cpu cgroup: needs root)',
  { skip: !canMakeGroup },
  () => {
    try {
      writeFileSync(`${group}/cpu.cfs_period_us`, '20000');
      writeFileSync(`${group}/cpu.cfs_quota_us`, '20000');
      const script = `import('${new URL('./cpu-quota.ts', import.meta.url).href}').then((m) => console.log(JSON.stringify([m.cgroupCpuLimit(require('fs').readFileSync('/proc/self/cgroup', 'utf8')), m.usableCores()])))`;
      const r = spawnSync(
        'sh',
        [
          '-c',
          'echo $$ > "$0" && exec "$@"',
          `${group}/cgroup.procs`,
          process.execPath,
          '--import',
          'tsx',
          '-e',
          script,
        ],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), [1, 1]);
    } finally {
      for (let i = 0; i < 20; i++) {
        try {
          rmdirSync(group);
          break;
        } catch {
          spawnSync('sleep', ['0.05']);
        }
      }
    }
  },
);
