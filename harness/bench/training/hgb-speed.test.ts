import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSklearn } from './quality.ts';
import { npyBytes } from './quality-data.ts';

const here = dirname(fileURLToPath(import.meta.url));
const sklearn = findSklearn();

test(
  'hgb-speed.py fits bin codes (0 missing, a native categorical) for exactly the iterations asked and reports its times',
  { skip: 'error' in sklearn ? sklearn.error : false },
  () => {
    if ('error' in sklearn) return;
    const rows = 400;
    const m = new Float32Array(rows * 3);
    for (let r = 0; r < rows; r++) {
      m[r * 3] = r % 7; // ordered bins, 0 = missing
      m[r * 3 + 1] = 1 + (r % 5); // categorical bins
      m[r * 3 + 2] = r % 7 > 3 !== (r % 5 === 0) ? 1 : 0;
    }
    const dir = mkdtempSync(join(tmpdir(), 'hgb-speed-'));
    try {
      writeFileSync(join(dir, 'm.npy'), npyBytes(m, rows, 3));
      const description = {
        task: 'classification',
        iterations: 7,
        learning_rate: 0.3,
        max_leaf_nodes: 7,
        max_depth: 0,
        min_samples_leaf: 5,
        l2_regularization: 1,
        categorical: [false, true],
      };
      writeFileSync(join(dir, 'd.json'), JSON.stringify(description));
      const run = spawnSync(sklearn.python, [join(here, 'hgb-speed.py'), join(dir, 'm.npy'), join(dir, 'd.json')], {
        encoding: 'utf8',
        env: { ...process.env, OMP_NUM_THREADS: '1' },
      });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout.trim()) as Record<string, number | string>;
      assert.equal(out.model, 'HistGradientBoostingClassifier');
      assert.equal(out.rows, rows);
      assert.equal(out.iterations, 7, 'early stopping off: every iteration asked');
      assert.ok((out.fit_s as number) >= 0 && (out.ms_per_iteration as number) > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
