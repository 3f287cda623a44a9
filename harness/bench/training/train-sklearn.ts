/**
 * `npm run bench:train -- --sklearn`'s reference (./train.ts): scikit-learn's HistGradientBoosting
 * timed by ./hgb-speed.py on the rows a tree candidate was boosted on.
 */
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Table } from '../../../core/data/table.ts';
import type { FeatureSpec } from '../../../core/model/features.ts';
import type { FitData, FitOptions } from '../../../training/fit.ts';
import {
  effectiveMinSamplesLeaf,
  GBDT_DEFAULTS,
  inputOptions,
  type GbdtConfig,
} from '../../../training/gbdt/fit-gbdt.ts';
import { fitInputs } from '../../../training/gbdt/inputs.ts';
import { findSklearn } from './quality.ts';
import { npyBytes } from './quality-data.ts';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * scikit-learn's HistGradientBoosting on the rows the trees were boosted on (./hgb-speed.py):
 * the same bin codes (so the same candidate splits), settings and iteration count.
 */
export function sklearnSpeed(
  cfg: GbdtConfig,
  spec: FeatureSpec,
  d: { trainT: Table; data: FitData },
  o: { task: 'classification' | 'regression'; options: FitOptions },
  iterations: number,
  threads: number,
): Record<string, unknown> {
  const found = findSklearn();
  if ('error' in found) return { error: found.error };
  const c = { ...GBDT_DEFAULTS, ...cfg };
  const k = o.options.classes && o.options.classes > 1 ? o.options.classes : 1;
  const y = d.data.train.y;
  const fitted = fitInputs(spec, d.data.train.enc, d.trainT, y, inputOptions(c, o.options.seed, k));
  const width = fitted.inputs.length;
  const rows = y.length;
  const matrix = new Float32Array(rows * (width + 1));
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < width; f++) matrix[r * (width + 1) + f] = fitted.bins[r * width + f];
    matrix[r * (width + 1) + width] = y[r];
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-train-'));
  try {
    writeFileSync(join(dir, 'rows.npy'), npyBytes(matrix, rows, width + 1));
    const description = {
      task: o.task,
      iterations,
      learning_rate: c.learning_rate,
      max_leaf_nodes: c.max_leaf_nodes,
      max_depth: c.max_depth,
      min_samples_leaf: effectiveMinSamplesLeaf(c.min_samples_leaf, rows),
      l2_regularization: c.l2_regularization,
      categorical: fitted.inputs.map((i) => i.kind === 'categorical'),
    };
    writeFileSync(join(dir, 'rows.json'), JSON.stringify(description));
    const run = spawnSync(found.python, [join(here, 'hgb-speed.py'), join(dir, 'rows.npy'), join(dir, 'rows.json')], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: String(threads) },
    });
    const last = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !last.startsWith('{'))
      return {
        error: `hgb-speed.py failed (exit ${run.status}): ${run.stderr.trim().split('\n').slice(-2).join(' ')}`,
      };
    return { ...(JSON.parse(last) as Record<string, unknown>), threads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
