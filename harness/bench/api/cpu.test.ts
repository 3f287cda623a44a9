import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { processTreeCpuSeconds } from './cpu.ts';

test(
  'CPU seconds of a process grow with the work it does; unknown processes give null',
  { skip: !existsSync('/proc/self/stat') },
  () => {
    const before = processTreeCpuSeconds(process.pid)!;
    const until = performance.now() + 150;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const after = processTreeCpuSeconds(process.pid)!;
    assert.ok(x > 0);
    assert.ok(after - before >= 0.05, `${before} → ${after} after 150 ms of busy work`);
    assert.equal(processTreeCpuSeconds(undefined), null);
    assert.equal(processTreeCpuSeconds(2 ** 30), null);
  },
);
