/**
 * `bench:quality --dataset NAME --each-candidate`: every candidate of the example trained alone
 * (the same prepared rows, its own refit as the pipeline does it) and scored on test, then the
 * equal-weight mean of the candidates' test outputs (values, or probabilities) and of the two best
 * on validation. It measures what a blend of the candidates would give before any bundle carries
 * one: on a few hundred rows, choosing one candidate on ~80 validation rows is itself noisy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Params } from '../../../core/schemas/params.ts';
import type { Logger } from '../../../core/platform/log.ts';
import { readParquetTable } from '../../../core/data/parquet.ts';
import { encodeTarget } from '../../../core/model/features.ts';
import { loadBundle } from '../../../core/model/bundle.ts';
import { selectBackend } from '../../../core/model/tfjs-backend.ts';
import { regressionMetrics, rocAuc } from '../../../core/model/quality-metrics.ts';
import { multiclassMetrics } from '../../../core/model/multiclass-metrics.ts';
import { MODEL_DIR, PREPARED_DIR } from '../../../training/contracts/paths.ts';
import { prepareInto } from './quality-prepare.ts';
import { train, readExperiments } from '../../../training/stages/train.ts';
import { isBetter, type PrimaryMetric } from '../../../training/fit.ts';

/** The mean of equally long output arrays. */
export function meanOutputs(outputs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(outputs[0].length);
  for (const o of outputs) for (let i = 0; i < out.length; i++) out[i] += o[i] / outputs.length;
  return out;
}

/** The names of the `n` best candidates by their validation value of the primary metric. */
export function bestOnValidation(validation: Record<string, number>, primary: PrimaryMetric, n: number): string[] {
  return Object.keys(validation)
    .sort((a, b) =>
      isBetter(primary, validation[a], validation[b]) ? -1 : isBetter(primary, validation[b], validation[a]) ? 1 : 0,
    )
    .slice(0, n);
}

/** Test value of the headline metric (RMSE, macro-F1 or ROC-AUC) of each candidate alone and of the blends. */
export async function eachCandidate(
  params: Params,
  repoRoot: string,
  o: { log: Logger; metric: string },
): Promise<Record<string, unknown>[]> {
  const tmp = await mkdtemp(join(tmpdir(), 'bench-quality-candidates-'));
  const { tf } = await selectBackend({});
  try {
    const { spec } = await prepareInto(tmp, params, repoRoot, o.log);
    const test = await readParquetTable(join(tmp, PREPARED_DIR, 'test.parquet'));
    const y = encodeTarget(spec.target, test.columns[spec.target.column]);
    const classes = spec.target.classes;
    const score = (p: Float32Array) =>
      o.metric === 'rmse'
        ? regressionMetrics(y, p).rmse
        : classes
          ? multiclassMetrics(y, p, classes).macro_f1
          : rocAuc(y, p);
    const trainParams = params.train;
    if (!trainParams) throw new Error('the example has no train section; --each-candidate needs its candidates');
    const primary: PrimaryMetric = trainParams.primary_metric;
    const outputs: Record<string, Float32Array> = {};
    const validation: Record<string, number> = {};
    for (const candidate of trainParams.candidates) {
      await train({
        repoRoot: tmp,
        params: { ...params, train: { ...trainParams, candidates: [candidate] } },
        log: o.log,
      });
      const bundle = await loadBundle(tf, join(tmp, MODEL_DIR));
      try {
        outputs[candidate.name] = bundle.predictTable(test);
      } finally {
        bundle.dispose();
      }
      const run = (await readExperiments(tmp)).at(-1);
      validation[candidate.name] = run?.val[primary] as number;
    }
    const names = Object.keys(outputs);
    const two = bestOnValidation(validation, primary, 2);
    return [
      ...names.map((name) => ({
        candidate: name,
        validation: validation[name],
        [`test_${o.metric}`]: score(outputs[name]),
      })),
      { blend: names.join('+'), [`test_${o.metric}`]: score(meanOutputs(names.map((n) => outputs[n]))) },
      {
        blend: two.join('+'),
        chosen_by: 'validation',
        [`test_${o.metric}`]: score(meanOutputs(two.map((n) => outputs[n]))),
      },
    ];
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
