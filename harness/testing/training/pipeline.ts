/** Test fixture: a temporary repository run through ingest → validate → prepare → train on a small CSV. */
import { ingest } from '../../../training/stages/ingest.ts';
import { validate } from '../../../training/stages/validate.ts';
import { prepare } from '../../../training/stages/prepare.ts';
import { train } from '../../../training/stages/train.ts';
import { flightsCsv, noTrack, quietLog, tempRepo, testParams, writeSource } from './fixtures.ts';
import type { Params } from '../../../core/schemas/params.ts';

export async function trainedRepo(
  task: Partial<Params['task']> = {},
  trainOverrides: Partial<NonNullable<Params['train']>> = {},
) {
  const repo = await tempRepo();
  const src = await writeSource(repo, 'src.csv', flightsCsv(600));
  const base = await testParams();
  const params = await testParams({
    data: { source: src },
    ingest: { batch_size: 200, batches_per_run: 0, max_batches: 0 },
    task,
    train: {
      ...base.train!,
      primary_metric: task.type === 'regression' ? 'rmse' : 'roc_auc',
      max_epochs: 2,
      patience: 1,
      batch_size: 64,
      golden_examples: 5,
      candidates: [
        { name: 'logreg', model: 'logistic', learning_rate: 0.05 },
        { name: 'mlp', model: 'mlp', hidden: [8], embedding_dim: 2, learning_rate: 0.01 },
      ],
      ...trainOverrides,
    },
  });
  const log = quietLog();
  await ingest({ repoRoot: repo, params, log, track: noTrack });
  await validate({ repoRoot: repo, params, log });
  await prepare({ repoRoot: repo, params, log });
  const summary = await train({ repoRoot: repo, params, log });
  return { repo, params, summary, log };
}
