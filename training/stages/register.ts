/**
 * Stage `register`: record the evaluated bundle in the model registry and promote it to
 * `production` only when it passes every gate and beats the current production model by
 * `register.min_improvement` on the primary metric, both measured on this run's test split.
 * Otherwise it waits in `staging` (or is rejected when a gate fails), with the reason recorded.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Params } from '../../core/schemas/params.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { readParquetRowGroups } from '../../core/data/parquet.ts';
import { multiclassMetrics } from '../../core/model/multiclass-metrics.ts';
import { loadBundle } from '../../core/model/bundle.ts';
import { decisionThreshold } from '../../core/model/decision.ts';
import { nameRegistryFrom, openRegistry, type Registry } from '../../core/registry/index.ts';
import type { Logger } from '../../core/platform/log.ts';
import { EVALUATE_METRICS, MODEL_DIR, PREPARED_DIR } from '../contracts/paths.ts';
import { registerStage } from '../contracts/register.ts';
import type { StageParams } from '../contracts/contract.ts';
import { classificationMetrics, regressionMetrics } from '../../core/model/quality-metrics.ts';
import {
  checkJson,
  evaluateFileSchema,
  tryReadMetrics,
  valueOf,
  writeMetricsFile,
} from '../../core/schemas/metrics-files.ts';
import { readBundleMeta } from '../../core/schemas/bundle-meta.ts';
import { HIGHER_IS_BETTER, isBetter, metricValue, type PrimaryMetric } from '../candidate-metrics.ts';
import { isMain, runStage } from '../stage-cli.ts';
import { detectDrift, type CurrentWindow } from '../../core/drift/index.ts';
import { scoreSplit } from '../score-split.ts';
import type { ReferenceProfile } from '../../core/model/profile.ts';
import { currentWindows } from '../drift.ts';
import { incomparability, incomparableMessage, type ModelShape } from '../comparable.ts';
import { readArtifactFile } from '../../core/model/artifact-files.ts';
import { assignStage, type StageVia } from '../register-stage-tag.ts';

export { DATA_DRIFT_METRICS, REGISTER_METRICS } from '../contracts/paths.ts';

/** This run's training data against the data production was trained on (the report's drift section). */
async function writeDataDrift(
  repoRoot: string,
  profile: ReferenceProfile,
  version: number,
  drift: Params['drift'],
  log: Logger,
): Promise<void> {
  // Binned a row group at a time: the windows are counts, whatever the rows.
  let windows: CurrentWindow | undefined;
  let rows = 0;
  for await (const chunk of readParquetRowGroups(join(repoRoot, PREPARED_DIR, 'train.parquet'))) {
    windows = currentWindows(profile, chunk, windows);
    rows += chunk.length;
  }
  if (!windows) throw new Error(`${PREPARED_DIR}/train.parquet has no rows; re-run prepare`);
  const result = detectDrift(profile, windows, drift);
  const features = Object.fromEntries(
    Object.entries(result.features).map(([k, f]) => [
      k,
      { method: f.method, score: f.score, threshold: f.threshold, drifted: f.drifted, status: f.status },
    ]),
  );
  await writeMetricsFile(repoRoot, 'dataDrift', {
    status: 'ok',
    production_version: version,
    rows,
    dataset_drift: result.dataset_drift,
    drift_share: result.drift_share,
    drifted_features: result.drifted_features,
    features,
  });
  log.info(`data drift vs production v${version}: ${result.drifted_features.join(', ') || 'none'}`);
}

export interface Gate {
  passed: boolean;
  detail: string;
}

/** The evaluate stage's file (its one schema), with the parts the gates need made mandatory. */
const evaluationSchema = evaluateFileSchema.required({ edge_cases: true, latency_ms: true, golden_examples: true });
type Evaluation = z.infer<typeof evaluationSchema>;

async function readEvaluation(repoRoot: string): Promise<Evaluation> {
  // Read through the file's one schema, then with the gates' parts required.
  const read = await tryReadMetrics('evaluate', { repo: repoRoot });
  if (!read.ok) throw read.error;
  return valueOf(checkJson(read.value, evaluationSchema, { where: EVALUATE_METRICS, stage: 'evaluate' }));
}

/**
 * What register checks on the bundle itself rather than trusting metrics/evaluate.json: it loads
 * as the API will, reproduces finite golden outputs, and scores the test split as evaluate said
 * (a stale evaluate.json from another bundle, or a NaN model, cannot be promoted).
 */
export interface BundleCheck {
  golden: Gate;
  evaluation: Gate;
}

async function checkBundle(repoRoot: string, ev: Evaluation, log: Logger): Promise<BundleCheck> {
  const { tf } = await selectBackend({ log });
  let bundle;
  try {
    bundle = await loadBundle(tf, join(repoRoot, MODEL_DIR));
  } catch (err) {
    const detail = `the bundle does not load: ${(err as Error).message}`;
    return { golden: { passed: false, detail }, evaluation: { passed: false, detail } };
  }
  try {
    const g = bundle.checkGolden();
    const golden = {
      passed: g.ok,
      detail: g.ok
        ? `the bundle reproduces its ${bundle.golden.length} golden outputs (finite, exact)`
        : `the bundle fails its golden check: ${g.problem}`,
    };
    const test = await scoreSplit(bundle, join(repoRoot, PREPARED_DIR, 'test.parquet'));
    const { y, p } = test;
    const nonFinite = p.reduce((n, v) => n + (Number.isFinite(v) ? 0 : 1), 0);
    const mine = round(metricValue(ev.primary_metric, y, p, bundle.classes?.length));
    const said = ev.test[ev.primary_metric];
    const agree =
      nonFinite === 0 &&
      test.rows === ev.rows_test &&
      typeof said === 'number' &&
      Math.abs(mine - said) <= 2e-6 + 1e-6 * Math.abs(mine);
    const evaluation = {
      passed: agree,
      detail: nonFinite
        ? `${nonFinite} of ${test.rows} test predictions are not finite`
        : agree
          ? `${EVALUATE_METRICS} matches this bundle (${ev.primary_metric} ${fmt(mine)} on ${test.rows} test rows)`
          : `${EVALUATE_METRICS} does not describe this bundle (${ev.primary_metric} ${fmt(said as number)} on ${ev.rows_test} rows there, ${fmt(mine)} on ${test.rows} rows now); re-run evaluate`,
    };
    return { golden, evaluation };
  } finally {
    bundle.dispose();
  }
}

/** What the gates read of an evaluation. */
type GateInput = Pick<Evaluation, 'test' | 'baseline' | 'primary_metric'> & {
  edge_cases: { total: number; failed: number };
  latency_ms: { p95: number };
  golden_examples: { reproduced: boolean };
};

export function promotionGates(ev: GateInput, latencyBudgetMs: number, check?: BundleCheck): Record<string, Gate> {
  const nonFinite = Object.entries(ev.test)
    .filter(([, v]) => typeof v === 'number' && !Number.isFinite(v))
    .map(([k]) => k);
  const nullMetrics = Object.entries(ev.test)
    .filter(([, v]) => v === null)
    .map(([k]) => k);
  const bad = [...nonFinite, ...nullMetrics];
  const primary = ev.primary_metric;
  const cand = ev.test[primary] as number;
  const base = ev.baseline[primary] as number;
  return {
    finite_metrics: {
      passed: bad.length === 0,
      detail: bad.length ? `not finite: ${bad.join(', ')}` : 'all test metrics are finite',
    },
    edge_cases: {
      passed: ev.edge_cases.failed === 0,
      detail: `${ev.edge_cases.failed} of ${ev.edge_cases.total} synthetic edge cases failed`,
    },
    golden_examples: !ev.golden_examples.reproduced
      ? { passed: false, detail: 'reloaded bundle does not reproduce its golden outputs' }
      : check && !check.golden.passed
        ? check.golden
        : { passed: true, detail: 'reloaded bundle reproduces its golden outputs exactly' },
    latency: {
      passed: ev.latency_ms.p95 <= latencyBudgetMs,
      detail: `single-record p95 ${ev.latency_ms.p95} ms (budget ${latencyBudgetMs} ms)`,
    },
    beats_baseline: {
      passed: isBetter(primary, cand, base),
      detail: `${primary} ${fmt(cand)} vs baseline ${fmt(base)}`,
    },
    ...(check ? { evaluation_matches: check.evaluation } : {}),
  };
}

const fmt = (x: number | null | undefined) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(4) : String(x));
const round = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Production's primary metric on the same test rows the candidate was evaluated on. A production
 * model of another target or input (`current` is what this run's model predicts) is refused, not
 * scored: see training/comparable.ts.
 */
async function productionMetric(
  registry: Registry,
  name: string,
  repoRoot: string,
  primary: PrimaryMetric,
  drift: Params['drift'],
  log: Logger,
  current: ModelShape,
) {
  const none = async () => {
    await writeMetricsFile(repoRoot, 'dataDrift', {
      status: 'no_production_model',
      production_version: null,
    });
    return null;
  };
  if (!(await registry.listModels()).includes(name)) return none();
  const prod = await registry.getStage(name, 'production');
  if (!prod) return none();
  const { tf } = await selectBackend({ log });
  const fetched = await registry.fetchBundle(name, prod.version, join(repoRoot, '.pipeline', 'production-bundle'), {
    inPlace: true,
  });
  const bundle = await loadBundle(tf, fetched.dir);
  try {
    const { y, p } = await scoreSplit(bundle, join(repoRoot, PREPARED_DIR, 'test.parquet'), {
      beforeScoring: (columns) => {
        const reasons = incomparability(
          { task: bundle.meta.task, target: bundle.spec.target, input_schema: bundle.meta.input_schema },
          { ...current, columns },
        );
        if (reasons.length)
          throw new Error(
            incomparableMessage(name, prod.version, reasons, '`npm run pipeline` (or `npm start`) again'),
          );
      },
    });
    await writeDataDrift(repoRoot, bundle.profile, prod.version, drift, log);
    const all = bundle.classes
      ? multiclassMetrics(y, p, bundle.classes)
      : bundle.meta.task === 'classification'
        ? classificationMetrics(y, p, decisionThreshold(bundle.meta))
        : regressionMetrics(y, p);
    const metrics = Object.fromEntries(
      Object.entries(all)
        .filter(([, v]) => typeof v === 'number')
        .map(([k, v]) => [k, round(v as number)]),
    );
    return { version: prod.version, metric: round(metricValue(primary, y, p, bundle.classes?.length)), metrics };
  } finally {
    bundle.dispose();
  }
}

/**
 * The registry as metrics/register.json names it: a bucket URL as is, a local directory relative to
 * the repository (an absolute path would differ on every clone and show in `dvc metrics diff`).
 */
export function registryForMetrics(described: string, repoRoot: string): string {
  return nameRegistryFrom(described, repoRoot, 'relative');
}

/**
 * Whether this run may assign stages, and why (the reason goes into metrics/register.json); `via`
 * says how an assignment reaches the registry (training/register-stage-tag.ts): in the train workflow the
 * tag moves it (gh:tag, then registry sync-from-tags), elsewhere the registry moves at once.
 */
export type PromotionPolicy = {
  allowed: boolean;
  why: string;
  via?: StageVia;
  /** With `via: 'tags'`: who makes the tag — gh:tag in the train workflow, else a person's registry -- promote. */
  taggedBy?: 'workflow' | 'person';
};

/**
 * Experiments never promote: a `dvc exp run` (DVC sets DVC_EXP_NAME / DVC_EXP_BASELINE_REV in its
 * stages' environment) or a pipeline run outside the train workflow registers its version as a
 * candidate only. REGISTER_PROMOTE=allow is the explicit flag (npm start, the trainer Job);
 * REGISTER_PROMOTE=tags decides as the train workflow does, leaving the move to the tag;
 * REGISTER_PROMOTE=never forbids it even in CI.
 */
export function promotionPolicy(env: Record<string, string | undefined>): PromotionPolicy {
  if (env.DVC_EXP_NAME || env.DVC_EXP_BASELINE_REV) {
    return { allowed: false, why: `a dvc exp run (experiment ${env.DVC_EXP_NAME || '?'}) never promotes` };
  }
  const flag = (env.REGISTER_PROMOTE ?? '').trim() || 'auto';
  if (flag === 'allow') return { allowed: true, why: 'REGISTER_PROMOTE=allow', via: 'registry' };
  if (flag === 'tags') return { allowed: true, why: 'REGISTER_PROMOTE=tags', via: 'tags', taggedBy: 'person' };
  if (flag === 'never') return { allowed: false, why: 'REGISTER_PROMOTE=never' };
  if (flag !== 'auto')
    throw new Error(`REGISTER_PROMOTE must be allow, tags, never or auto, got ${JSON.stringify(flag)}`);
  if (env.GITHUB_ACTIONS === 'true' && env.TRAIN_BRANCH)
    return { allowed: true, why: `the train workflow (${env.TRAIN_BRANCH})`, via: 'tags', taggedBy: 'workflow' };
  return {
    allowed: false,
    why: 'only the train workflow promotes; this run is outside it (locally, REGISTER_PROMOTE=allow promotes, as npm start does)',
  };
}

/**
 * `registryUrl` overrides `register.registry` (the CLI passes --registry or $REGISTRY_URL);
 * `promotion` (default: allowed) is what promotionPolicy says for the environment the stage runs in.
 */
export async function register(options: {
  repoRoot: string;
  params: StageParams<typeof registerStage>;
  log: Logger;
  registryUrl?: string;
  promotion?: PromotionPolicy;
}) {
  const { repoRoot, log } = options;
  const params = registerStage.params(options.params);
  const rp = params.register;
  if (!rp)
    throw new Error(
      'params.yaml has no `register` section; add model_name, registry, min_improvement and latency_budget_ms',
    );
  const ev = await readEvaluation(repoRoot);
  const bundleDir = join(repoRoot, MODEL_DIR);
  const bundleMeta = await readBundleMeta(bundleDir);
  const url = options.registryUrl ?? rp.registry;
  const registry = await openRegistry(url, { baseDir: repoRoot, log });
  const name = rp.model_name;
  const primary = ev.primary_metric;
  const candidate = ev.test[primary] as number;
  const gates = promotionGates(ev, rp.latency_budget_ms, await checkBundle(repoRoot, ev, log));
  const { target } = await readArtifactFile(bundleDir, 'featureSpec', 'train');
  const before = await productionMetric(registry, name, repoRoot, primary, params.drift, log, {
    task: bundleMeta.task,
    target,
  });
  const known = (await registry.listModels()).includes(name);
  const eventsBefore = known ? (await registry.history(name)).length : 0;

  // Re-running on an unchanged model (even retrained: only created_at differs) is a no-op.
  const version = await registry.register(
    name,
    bundleDir,
    {
      metrics: { test: ev.test, validation: bundleMeta.metrics?.validation ?? {}, baseline: ev.baseline },
      params: bundleMeta.params ?? {},
      data_md5: bundleMeta.data_md5 ?? null,
      git_commit: bundleMeta.git_commit ?? null,
      created_at: bundleMeta.created_at ?? null,
      extra: {
        candidate: bundleMeta.candidate,
        backend: bundleMeta.backend,
        primary_metric: primary,
        rows_test: ev.rows_test,
      },
    },
    { source: 'pipeline', reason: `trained ${bundleMeta.candidate}`, dedupe: true },
  );

  const failed = Object.entries(gates)
    .filter(([, g]) => !g.passed)
    .map(([k, g]) => `${k} (${g.detail})`);
  const delta = before ? round(candidate - before.metric) : null;
  let decision: 'promoted' | 'staging' | 'rejected' | 'candidate';
  let reason: string;
  if (failed.length) {
    decision = 'rejected';
    const prod = version.stages.includes('production')
      ? ` (v${version.version} is production: roll it back with \`npm run registry -- rollback production --reason …\`)`
      : '';
    reason = `gates failed: ${failed.join('; ')}${prod}`;
  } else if (version.stages.includes('production')) {
    decision = 'promoted';
    reason = `v${version.version} is already production`;
  } else if (version.archived) {
    decision = 'rejected';
    reason = `v${version.version} holds this same model and is archived; an archived version is not assigned to a stage again`;
  } else if (!before) {
    decision = 'promoted';
    reason = `first production model: ${primary} ${fmt(candidate)} on ${ev.rows_test} test rows, all gates passed`;
  } else if (isBetter(primary, candidate, before.metric, rp.min_improvement)) {
    decision = 'promoted';
    reason = `${primary} ${fmt(candidate)} vs production v${before.version} ${fmt(before.metric)} on the same ${ev.rows_test} test rows (${delta! >= 0 ? '+' : ''}${fmt(delta)}, needed ${HIGHER_IS_BETTER[primary] ? '+' : '-'}${rp.min_improvement})`;
  } else {
    decision = 'staging';
    reason = `not promoted: ${primary} ${fmt(candidate)} vs production v${before.version} ${fmt(before.metric)} on the same test rows (${delta! >= 0 ? '+' : ''}${fmt(delta)}; needs ${HIGHER_IS_BETTER[primary] ? 'at least +' : 'at most -'}${rp.min_improvement})`;
  }
  const promotion = options.promotion ?? { allowed: true, why: 'allowed by the caller' };
  if (
    !promotion.allowed &&
    (decision === 'promoted' || decision === 'staging') &&
    !version.stages.includes(decision === 'promoted' ? 'production' : 'staging')
  ) {
    reason = `registered as a candidate, no stage assigned (it would have gone to ${decision === 'promoted' ? 'production' : 'staging'}: ${reason}): ${promotion.why}`;
    decision = 'candidate';
  }
  const stage = decision === 'promoted' ? 'production' : decision === 'staging' ? 'staging' : null;
  const assigned =
    stage && !version.stages.includes('production') && !version.archived
      ? await assignStage(registry, {
          repoRoot,
          model: name,
          stage,
          version: version.version,
          via: promotion.via ?? 'registry',
          reason,
        })
      : null;
  // Outside the workflow no commit holds this run's results yet (the trainer Job's come back to a
  // checkout through registry -- import-run), and GTO's version must sit at the commit whose
  // dvc.lock records it.
  if (assigned && !assigned.applied)
    reason +=
      promotion.taggedBy === 'person'
        ? ` (not moved here: ${stage} moves once a GTO tag says so; registry -- promote ${version.version} ${stage} tags it from a checkout with a commit whose dvc.lock records this run's results; for the trainer Job's run, registry -- import-run ${version.version} writes the results it stored into a checkout to commit)`
        : ` (the registry moves ${stage} to v${version.version} once tag ${assigned.tag} is pushed and registry sync-from-tags follows it: gh:tag in the train workflow)`;
  // The GTO tags CI pushes: exactly those of the events this run recorded, plus the assignment the
  // tag is to make (GTO's counter, so a version that returns to a stage gets a fresh tag).
  const recorded = (await registry.history(name)).slice(eventsBefore);
  const tags = [...recorded.flatMap((e) => e.tags), ...(assigned && !assigned.applied ? [assigned.tag] : [])];
  const changes: [string, { from: number | null; to: number | null }][] = recorded
    .filter((e) => e.stage !== null)
    .map((e) => [e.stage!, { from: e.from, to: e.to }]);
  if (assigned && !assigned.applied) changes.push([assigned.stage, { from: assigned.from, to: assigned.to }]);
  const stageChanges = Object.fromEntries(changes);
  const result = {
    model_name: name,
    registry: registryForMetrics(registry.describe(), repoRoot),
    version: version.version,
    decision,
    reason,
    primary_metric: primary,
    production_before: before,
    candidate_metric: candidate,
    delta,
    min_improvement: rp.min_improvement,
    gates,
    gto_tags: tags,
    stage_changes: stageChanges,
  };
  await writeMetricsFile(repoRoot, 'register', result);
  log.info(`${name} v${version.version}: ${decision} — ${reason}`);
  return result;
}

if (isMain(import.meta.url)) {
  await runStage(
    registerStage,
    ({ flags, env, ...ctx }) =>
      register({ ...ctx, registryUrl: flags.registry ?? env.REGISTRY_URL, promotion: promotionPolicy(env) }),
    ['registry'],
  );
}
