import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluate } from './evaluate.ts';
import { register } from './register.ts';
import { report, delta, REPORT_FILE, REPORT_ASSETS, REPORT_MARKER } from './report.ts';
import { quietLog } from '../test-fixtures.ts';
import { trainedRepo } from '../test-pipeline.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

test('classification report: marker, verdict, headline numbers with deltas, gates, and real PNG charts', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 3 });
  const log = quietLog();
  const ev = await evaluate({ repoRoot: repo, params, log });
  const reg = await register({ repoRoot: repo, params, log, registryUrl: join(repo, 'registry') });
  await report({ repoRoot: repo, log });
  const md = await readFile(join(repo, REPORT_FILE), 'utf8');
  assert.ok(md.startsWith(REPORT_MARKER));
  assert.match(md, new RegExp(`# flight-delay v${reg.version}: promoted to production`));
  const auc = (ev.test as { roc_auc: number }).roc_auc;
  assert.match(md, new RegExp(`\\| \\*\\*roc_auc\\*\\* ★ \\| ${auc.toFixed(4)} \\| — \\| — \\| 0\\.5000 \\| ▲ \\+${(auc - 0.5).toFixed(4)} \\|`));
  assert.match(md, /\| edge_cases \| ✅ pass \|/);
  assert.match(md, /<details><summary>2 candidates trained on wasm/);
  const pngs = await readdir(join(repo, REPORT_ASSETS));
  for (const name of ['roc.png', 'pr.png', 'confusion.png', 'calibration.png', 'feature-distance.png']) {
    assert.ok(pngs.includes(name), name);
    const bytes = await readFile(join(repo, REPORT_ASSETS, name));
    assert.deepEqual([...bytes.subarray(0, 8)], PNG_SIGNATURE);
    assert.ok(bytes.length > 10_000, `${name} has ${bytes.length} bytes`);
    assert.ok(md.includes(`report/${name}`), `report links ${name}`);
  }
  // Same inputs → byte-identical report (so DVC sees no change when nothing changed).
  await report({ repoRoot: repo, log });
  assert.equal(await readFile(join(repo, REPORT_FILE), 'utf8'), md);
});

test('regression report shows regression metrics and a residual chart; optional inputs may be missing', async () => {
  const { repo, params } = await trainedRepo({ type: 'regression', positive_above: undefined });
  const log = quietLog();
  await evaluate({ repoRoot: repo, params, log });
  await rm(join(repo, 'metrics', 'validate.json'));
  await report({ repoRoot: repo, log });
  const md = await readFile(join(repo, REPORT_FILE), 'utf8');
  assert.match(md, /: not registered/);
  assert.match(md, /\| \*\*rmse\*\* ★ \|/);
  assert.match(md, /report\/residuals\.png/);
  assert.ok((await readdir(join(repo, REPORT_ASSETS))).includes('residuals.png'));
});

test('deltas point the right way for metrics where lower is better', () => {
  assert.equal(delta('roc_auc', 0.7, 0.6), '▲ +0.1000');
  assert.equal(delta('log_loss', 0.4, 0.5), '▲ -0.1000');
  assert.equal(delta('rmse', 12, 10), '▼ +2.0000');
  assert.equal(delta('f1', 0.5, 0.5), '±0');
  assert.equal(delta('f1', NaN, 0.5), '—');
});
