import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pngDimensions } from '../../core/charts/index.ts';
import { evaluate } from './evaluate.ts';
import { register } from './register.ts';
import { report, REPORT_ASSETS, REPORT_FILE, REPORT_MARKER } from './report.ts';
import { formatDelta } from '../report/headline.ts';
import { earlierRuns, selectionPhrase } from '../report/data-sections.ts';
import type { Evaluation, ExperimentRun } from '../report/inputs.ts';
import { calibrationPhrase } from '../report/model-sections.ts';
import { quietLog, tempRepo } from '../../harness/testing/training/fixtures.ts';
import { trainedRepo } from '../../harness/testing/training/pipeline.ts';

const FIXTURES = fileURLToPath(new URL('./testdata/report/', import.meta.url));

async function fixtureRepo(name: 'classification' | 'regression'): Promise<string> {
  const repo = await tempRepo();
  await cp(join(FIXTURES, name), repo, { recursive: true });
  return repo;
}

async function runReport(repo: string) {
  const result = await report({ repoRoot: repo, log: quietLog() });
  return {
    result,
    md: await readFile(join(repo, REPORT_FILE), 'utf8'),
    pngs: (await readdir(join(repo, REPORT_ASSETS))).sort(),
  };
}

/** Every linked image exists, every written image is linked, and each is a real ~600×400 PNG at 2×. */
async function assertImages(repo: string, md: string, pngs: string[]) {
  const linked = [...md.matchAll(/!\[[^\]]*\]\((report\/[^)]+)\)/g)].map((m) => m[1].slice('report/'.length)).sort();
  assert.deepEqual(linked, pngs);
  for (const name of pngs) {
    const bytes = new Uint8Array(await readFile(join(repo, REPORT_ASSETS, name)));
    const size = pngDimensions(bytes);
    assert.ok(size, `${name} is a PNG`);
    assert.ok(
      size.width >= 1000 && size.width <= 1400 && size.height >= 600 && size.height <= 1040,
      `${name} is ${size.width}×${size.height}`,
    );
    assert.ok(bytes.length > 10_000, `${name} has ${bytes.length} bytes`);
  }
}

/** What GitHub and `cml comment create` need: the marker first, balanced folds, no other HTML, text only. */
function assertGithubMarkdown(md: string) {
  assert.ok(md.startsWith(`${REPORT_MARKER}\n`));
  assert.equal((md.match(/<details>/g) ?? []).length, (md.match(/<\/details>/g) ?? []).length);
  assert.deepEqual(md.match(/<(?!\/?(details|summary)>|!-- gitops-ml-report -->)[a-z!/][^>]*>/gi), null);
  // eslint-disable-next-line no-control-regex -- the check is that no control character is left in the report
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(md), 'no control characters (git would call the file binary)');
  assert.ok(md.endsWith('\n') && !md.endsWith('\n\n'));
  assert.ok(!md.includes('\n\n\n'), 'one blank line between blocks');
}

test('classification report with every input: verdict, headline deltas, gates, charts, data, leaderboard, edge cases', async () => {
  const repo = await fixtureRepo('classification');
  const { md, pngs, result } = await runReport(repo);
  assertGithubMarkdown(md);
  assert.match(md, /^# ✅ flight-delay v4: promoted to production$/m);
  assert.match(md, /^> roc_auc 0\.8123 vs production v3 0\.8000/m);
  assert.match(
    md,
    /Candidate `mlp\[hidden=32\]` · classification · 2,000 test rows · decision threshold 0\.4125 · baseline: constant prevalence 0\.2055/,
  );

  // Headline: this run vs production v3 (re-scored on the same rows) vs baseline.
  assert.match(md, /\| metric \| this run \| production v3 \| Δ vs production \| baseline \| Δ vs baseline \|/);
  assert.ok(
    md.includes('| **roc_auc** (primary) | 0.8123 | 0.8000 | ▲ +0.0123 (better) | 0.5000 | ▲ +0.3123 (better) |'),
  );
  assert.ok(md.includes('| log_loss | 0.4100 | 0.4500 | ▼ -0.0400 (better) | 0.5000 | ▼ -0.0900 (better) |'));
  assert.ok(md.includes('| accuracy | 0.8100 | 0.8100 | = 0.0000 | 0.8000 | ▲ +0.0100 (better) |'));
  assert.ok(md.includes('| recall | 0.4200 | 0.4500 | ▼ -0.0300 (worse) | 0.0000 | ▲ +0.4200 (better) |'));
  assert.ok(md.indexOf('**roc_auc** (primary)') < md.indexOf('| pr_auc |'), 'primary metric first');

  assert.match(md, /2 of 3 gates passed\./);
  assert.ok(md.includes('| edge_cases | ❌ fail | 1 of 4 synthetic edge cases failed |'));

  assert.deepEqual(pngs, [
    'calibration.png',
    'confusion.png',
    'feature-distance.png',
    'feature-origin.png',
    'pr.png',
    'roc.png',
  ]);
  await assertImages(repo, md, pngs);
  assert.deepEqual(result.timings.map((t) => t.name).sort(), pngs);
  assert.match(
    md,
    /<details><summary>ROC curve as a table<\/summary>\n\n\| threshold \| false positive rate \| true positive rate \|/,
  );
  assert.match(md, /10 of 60 points, evenly spaced/);
  assert.ok(
    md.includes('| on time | TN 1,452 (72.6%) | FP 137 (6.9%) | 1,589 |'),
    'confusion table uses the class labels',
  );

  // Data summary.
  assert.ok(md.includes('| raw batches ingested | 3 (2001-01-01T00:00:00.000Z → 2001-01-30T00:00:00.000Z) |'));
  assert.ok(md.includes('| rows rejected | 50 (0.498%) |'));
  assert.match(md, /\| missing \| 30 \|\n\| wrong_type \| 20 \|/);
  assert.ok(md.includes('| test | 2,000 | 20.0% | 2001-01-23T00:01:00.000Z | 2001-01-30T00:00:00.000Z | 20.5% |'));

  // Feature shift table, largest first.
  assert.match(
    md,
    /\| origin \| categorical \| 3 \| ⚠️ 0\.2000 \| ATL: 50\.0% → 30\.0% \|\n\| distance \| numeric \| 4 \| 0\.0200 \|/,
  );

  // Leaderboard of the latest run (train.json names it), best first, the selected one marked.
  const board = md.slice(md.indexOf('## Candidates'), md.indexOf('## Edge-case validation'));
  assert.match(
    board,
    /<summary>3 candidates of run 2001-03-01T00:00:00\.000Z on wasm; selected mlp\[hidden=32\]<\/summary>/,
  );
  const ranks = [...board.matchAll(/^\| (\d) \| (.+?) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(ranks, ['1 **mlp[hidden=32]** ✅ selected', '2 mlp[hidden=64-32]', '3 logreg']);
  // A network train.prune stopped says so beside its epochs.
  assert.match(board, /\| 2 \| mlp\[hidden=64-32\] \|.*\| 5 \(best 4; stopped: a rival had 0\.8000\) \|/);
  assert.match(
    board,
    /1 earlier training run \(2 candidates\) in `metrics\/experiments\.json`; best validation roc_auc 0\.7500 \(`mlp\[hidden=32\]`, run 2001-02-01T00:00:00\.000Z/,
  );

  // Edge cases: failures listed first, hostile text made harmless.
  assert.match(
    md,
    /4 synthetic records .*: 2 got a finite prediction, 1 were rejected with a reason; ❌ \*\*1 failed\*\*\./,
  );
  assert.match(
    md,
    /\| case \| outcome \| detail \|\n\| --- \| --- \| --- \|\n\| distance: NaN \| ❌ failed \| non-finite prediction NaN \|/,
  );
  assert.ok(md.includes('got "\\u0000\\u0007\\|x"'));
  assert.match(md, /p50 0\.8 ms, p95 2\.5 ms/);
});

test('same inputs give byte-identical report.md and PNGs (DVC sees no change)', async () => {
  const repo = await fixtureRepo('classification');
  const first = await runReport(repo);
  const bytes = await Promise.all(first.pngs.map((n) => readFile(join(repo, REPORT_ASSETS, n))));
  const second = await runReport(repo);
  assert.equal(second.md, first.md);
  assert.deepEqual(second.pngs, first.pngs);
  for (const [i, n] of second.pngs.entries())
    assert.ok(bytes[i].equals(await readFile(join(repo, REPORT_ASSETS, n))), `${n} unchanged`);
});

test('only evaluate.json: every other section says what is missing; stale charts are removed', async () => {
  const repo = await fixtureRepo('classification');
  await runReport(repo);
  await rm(join(repo, 'data'), { recursive: true });
  for (const f of await readdir(join(repo, 'metrics'), { recursive: true })) {
    if (f.endsWith('.json') && f !== 'evaluate.json') await rm(join(repo, 'metrics', f));
  }
  const { md, pngs } = await runReport(repo);
  assertGithubMarkdown(md);
  assert.match(md, /^# ⚪ flight-delay: not registered$/m);
  assert.match(md, /^> `metrics\/register\.json` is missing \(the register stage writes it\)$/m);
  assert.ok(md.includes('| **roc_auc** (primary) | 0.8123 | — | — | 0.5000 | ▲ +0.3123 (better) |'));
  for (const [path, stage] of [
    ['metrics/plots/roc.json', 'evaluate'],
    ['metrics/experiments.json', 'train'],
    ['metrics/validate.json', 'validate'],
    ['metrics/prepare.json', 'prepare'],
    ['data/manifest.json', 'ingest'],
    ['metrics/feature-distributions.json', 'evaluate'],
  ]) {
    assert.ok(md.includes(`_Not available: \`${path}\` is missing (the ${stage} stage writes it)._`), path);
  }
  // The confusion matrix comes from evaluate.json itself; charts of the earlier run are gone.
  assert.deepEqual(pngs, ['confusion.png']);
  await assertImages(repo, md, pngs);
});

test('a damaged optional input is reported in its section; a missing evaluate.json fails the stage', async () => {
  const repo = await fixtureRepo('classification');
  await writeFile(join(repo, 'metrics/register.json'), '{"version": ');
  await writeFile(join(repo, 'metrics/plots/pr.json'), JSON.stringify([{ recall: 'high' }]));
  const { md } = await runReport(repo);
  assert.match(md, /_Not available: `metrics\/register\.json` is not valid JSON \(.*\); rerun the register stage\._/);
  assert.match(
    md,
    /_Not available: `metrics\/plots\/pr\.json` does not have the expected shape \(0\.recall: .*\); rerun the evaluate stage\._/,
  );
  await rm(join(repo, 'metrics/evaluate.json'));
  await assert.rejects(
    report({ repoRoot: repo, log: quietLog() }),
    /`metrics\/evaluate\.json` is missing \(the evaluate stage writes it\); the report needs it/,
  );
});

test('regression report: error metrics (lower is better), residual histogram, target mean per split', async () => {
  const repo = await fixtureRepo('regression');
  const { md, pngs } = await runReport(repo);
  assertGithubMarkdown(md);
  assert.match(md, /^# 🟡 flight-delay-minutes v2: kept in staging \(production unchanged\)$/m);
  assert.ok(
    md.includes('| **rmse** (primary) | 30.2500 | 30.0000 | ▲ +0.2500 (worse) | 32.5000 | ▼ -2.2500 (better) |'),
  );
  assert.ok(md.includes('| r2 | 0.1200 | — | — | 0.0000 | ▲ +0.1200 (better) |'));
  assert.ok(!md.includes('ROC'));
  assert.deepEqual(pngs, ['residuals.png']);
  await assertImages(repo, md, pngs);
  assert.ok(md.includes('| test | 2,000 | 20.0% | 2001-01-23T00:01:00.000Z | 2001-01-30T00:00:00.000Z | 5.2500 |'));
  assert.match(md, /\| split \| rows \| share \| from \| to \| target mean \|/);
});

test('deltas: the arrow is the direction, the word is the verdict for the metric', () => {
  assert.equal(formatDelta(0.7, 0.6, true), '▲ +0.1000 (better)');
  assert.equal(formatDelta(0.4, 0.5, false), '▼ -0.1000 (better)');
  assert.equal(formatDelta(12, 10, false), '▲ +2.0000 (worse)');
  assert.equal(formatDelta(0.5, 0.50004, true), '= 0.0000');
  assert.equal(formatDelta(null, 0.5, true), '—');
  assert.equal(formatDelta(2500, 1000, false), '▲ +1500.0 (worse)');
});

test('report reads what the real evaluate and register stages write', async () => {
  const { repo, params } = await trainedRepo({}, { max_epochs: 2 });
  const log = quietLog();
  const ev = await evaluate({ repoRoot: repo, params, log });
  const reg = await register({ repoRoot: repo, params, log, registryUrl: join(repo, 'registry') });
  const { md, pngs } = await runReport(repo);
  assertGithubMarkdown(md);
  assert.match(md, new RegExp(`^# ✅ flight-delay v${reg.version}: promoted to production$`, 'm'));
  const auc = (ev.test as { roc_auc: number }).roc_auc;
  assert.ok(md.includes(`| **roc_auc** (primary) | ${auc.toFixed(4)} | — | — | 0.5000 (class prior) |`), md);
  // The decision metrics are compared with the majority class, not with the prior at the threshold.
  const base = ev.baseline as { accuracy: number };
  assert.ok(
    md.includes(
      `| accuracy | ${(ev.test as { accuracy: number }).accuracy.toFixed(4)} | — | — | ${base.accuracy.toFixed(4)} (majority class) |`,
    ),
    md,
  );
  // Everything the pipeline wrote was understood: the only gaps are files no stage here produced.
  const gaps = [...md.matchAll(/_Not available: `([^`]+)`/g)].map((m) => m[1]);
  assert.deepEqual(gaps, []);
  for (const name of ['roc.png', 'pr.png', 'confusion.png', 'calibration.png', 'feature-distance.png'])
    assert.ok(pngs.includes(name), name);
  await assertImages(repo, md, pngs);
});

test('the candidates summary names a blend as the mean of its members', () => {
  assert.equal(selectionPhrase(['mlp']), 'selected mlp');
  assert.equal(selectionPhrase(['linear', 'mlp', 'gbdt']), 'served their weighted mean (linear + mlp + gbdt)');
  assert.equal(selectionPhrase([]), '');
  assert.equal(
    selectionPhrase(['mlp', 'gbdt'], 'validation log_loss 0.4983'),
    'served their weighted mean (mlp + gbdt), validation log_loss 0.4983',
  );
  assert.equal(selectionPhrase(['mlp'], 'validation log_loss 0.4983'), 'selected mlp', 'a single winner has its row');
});

test("a blend's calibration is described as its members', not as one fitted method", () => {
  assert.equal(calibrationPhrase('platt'), 'platt, fitted on validation');
  assert.equal(calibrationPhrase('none'), 'no calibration in this bundle');
  assert.equal(
    calibrationPhrase('per_member'),
    'a blend: each member calibrated on validation, then their mean served',
  );
});

test("earlier runs: only this model's and target's runs are compared, the others counted apart", () => {
  const run = (run_id: string, value: number, model_name?: string, target?: string) =>
    ({ run_id, candidate: 'mlp', val: { roc_auc: value }, model_name, target }) as unknown as ExperimentRun;
  const ev = { primary_metric: 'roc_auc', higher_is_better: true } as Evaluation;
  const current = run('r9', 0.7, 'flight-delay', 'delay');
  const text = earlierRuns(
    [
      run('r1', 1, 'penguins', 'Species'),
      run('r2', 0.76, 'flight-delay', 'delay'),
      run('r3', 0.74, 'flight-delay', 'delay'),
      run('r4', 0.9, 'flight-delay', 'cancelled'),
      run('r0', 0.95),
    ],
    ev,
    current,
  );
  assert.match(
    text,
    /^2 earlier training runs of this model \(2 candidates\) .*best validation roc_auc 0\.7600 \(`mlp`, run r2,/,
  );
  assert.match(text, /3 runs of other models or targets \(or logged before runs named their model\) not compared\.$/);
  assert.match(
    earlierRuns([run('r1', 1, 'penguins', 'Species')], ev, current),
    /^No earlier training runs of this model in `metrics\/experiments\.json`\. 1 run of other models/,
  );
});
