/**
 * The cluster run in CI (`npm run test:unit` picks it up): 3 replicas behind HAProxy and a real
 * Prometheus, 1,800 May flights at 100/s, a promotion and a SIGKILL mid-run; every check of the run
 * must pass. 1,800 because over 1,000 of them are then answered by the promoted model on the
 * surviving replicas: drift verdicts need more values than `drift.size_cutoff` (with 800, neither
 * side gives one and the drift check proves nothing). About a minute on two busy cores (training the two small models included); bounded
 * at 3 minutes. Skipped where HAProxy, Prometheus or redis-server is not installed (.ci/run installs them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BALANCER_BINARIES, PROMETHEUS_BINARY } from './config.ts';
import { REDIS_SERVER } from '../testing/redis.ts';
import { stopChild, watchOutput } from '../testing/lifecycle.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const missing = [BALANCER_BINARIES.haproxy, PROMETHEUS_BINARY, REDIS_SERVER].filter((b) => !existsSync(b));
const skip = missing.length
  ? `skipped: ${missing.join(', ')} missing (apt-get install haproxy prometheus redis-server)`
  : false;
const LIMIT_MS = 170_000;

test(
  'cluster:rehearse: 3 replicas behind HAProxy, late labels at random replicas (a fifth posted twice), promotion and SIGKILL mid-run',
  { skip, timeout: LIMIT_MS + 10_000 },
  async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        '--replicas',
        '3',
        '--lb',
        'haproxy',
        '--requests',
        '1800',
        '--rate',
        '100',
        '--seed',
        '7',
        '--json',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = watchOutput(child);
    // SIGINT lets the harness stop its replicas, balancer and Prometheus before it exits.
    const timer = setTimeout(() => void stopChild(child, { signal: 'SIGINT', graceMs: 10_000 }), LIMIT_MS);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(timer);
    const line = out.lines.find((l) => l.startsWith('{'));
    const summary = line
      ? (JSON.parse(line) as { failed: string[]; checks: { name: string; ok: boolean; detail: string }[] })
      : null;
    const report = summary
      ? summary.checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n')
      : out.text().slice(-4000);
    assert.ok(summary, `the run printed no summary (exit ${code}):\n${report}`);
    assert.deepEqual(summary.failed, [], report);
    assert.equal(code, 0, report);
  },
);
