/**
 * Network epochs over every row of a train split larger than `train.max_rows`, streamed from its
 * Parquet file: each epoch visits the row groups in a seeded order, a few at a time (a shuffle
 * buffer), encodes them with the prepared feature spec (encodeFeatures, the one definition every
 * stage uses), trains mini-batches over a seeded permutation of the buffer's rows, and drops them.
 * Memory is the model and one buffer, whatever the split's size; the trees keep the evenly
 * spaced sample (training/split-rows.ts), since their binned matrix holds every row at once.
 *
 * Why a buffer of a few groups is enough shuffling: prepare writes the split in time order, so one
 * 250,000-row group spans a few days of flights; a batch drawn from one group would see only those
 * days, and consecutive batches the same days, which biases the steps toward that period. With
 * STREAM_BUFFER_GROUPS groups picked at random from the whole span, every batch mixes periods far
 * apart, and the group order changes every epoch. A full shuffle would need every row at once.
 */
import { stat } from 'node:fs/promises';
import type * as tfjs from '@tensorflow/tfjs';
import { openParquet, readParquetTable, rowGroupRanges, type ParquetSource } from '../core/data/parquet.ts';
import { concatTables, type Table } from '../core/data/table.ts';
import { encodeFeatures, encodeTarget, type EncodedFeatures, type FeatureSpec } from '../core/model/features.ts';
import { predict, setLearningRate, toInputs } from '../core/model/network.ts';
import type { EmbeddingTrainer } from './embedding-trainer.ts';
import { fitOneEpoch, labelTensor, layersSnapshot, trainerSnapshot, type EpochRunner } from './epoch-runners.ts';
import type { FitOptions } from './fit.ts';
import { permutation } from './permutation.ts';

type TF = typeof tfjs;

/** Row groups mixed per shuffle buffer: 4 × 250,000 rows, ~100 MB encoded for the flights. */
export const STREAM_BUFFER_GROUPS = 4;

export interface EncodedPart {
  enc: EncodedFeatures;
  y: Float32Array;
}

/** A train split read a shuffle buffer at a time. */
export interface TrainStream {
  /** Rows in the split: every one of them is visited once per epoch. */
  rows: number;
  groups: number;
  /** Calls `visit` once per buffer, in a seeded order; resolves to the rows visited. */
  epoch(random: () => number, visit: (part: EncodedPart) => void | Promise<void>): Promise<number>;
}

export async function openTrainStream(
  path: string,
  spec: FeatureSpec,
  bufferGroups = STREAM_BUFFER_GROUPS,
): Promise<TrainStream> {
  const source: ParquetSource = await openParquet(path);
  const ranges = rowGroupRanges(source);
  // The reader reopens the file by name for every group and trusts the footer read here: a file
  // replaced during training (prepare renames a new split over it) must stop the run, not feed it
  // rows through the old index.
  const opened = await stat(path);
  const read = async (g: number, epoch: number): Promise<Table> => {
    const [start, end] = ranges[g];
    try {
      const now = await stat(path);
      if (now.size !== opened.size || now.mtimeMs !== opened.mtimeMs) throw new Error('the file changed');
      return await readParquetTable(source, { rowStart: start, rowEnd: end });
    } catch (e) {
      throw new Error(
        `${path}: row group ${g} (rows ${start}–${end - 1}), epoch ${epoch}: unreadable or changed since train opened it ` +
          `(${(e as Error).message}); run prepare again, then train`,
        { cause: e },
      );
    }
  };
  let epochs = 0;
  return {
    rows: source.rows,
    groups: ranges.length,
    async epoch(random, visit) {
      epochs++;
      // One group consumes no random number: an epoch over it is the in-memory epoch over its rows.
      const order = permutation(ranges.length, random);
      // Buffers of near-equal size (9 groups: 3 + 3 + 3, not 4 + 4 + 1), so the epoch's last steps,
      // just before validation and the snapshot, do not come from one group's few days.
      const buffers = Math.ceil(order.length / bufferGroups);
      let seen = 0;
      for (let b = 0; b < buffers; b++) {
        const parts: Table[] = [];
        const from = Math.floor((b * order.length) / buffers);
        const to = Math.floor(((b + 1) * order.length) / buffers);
        for (const g of order.subarray(from, to)) parts.push(await read(g, epochs));
        const table = parts.length === 1 ? parts[0] : concatTables(parts);
        const y = encodeTarget(spec.target, table.columns[spec.target.column]);
        await visit({ enc: encodeFeatures(spec, table), y });
        seen += y.length;
      }
      return seen;
    },
  };
}

/** The target column of a split, a row group at a time (4 bytes a row, no features). */
export async function readTargetColumn(path: string, spec: FeatureSpec): Promise<Float32Array> {
  const source = await openParquet(path);
  const out = new Float32Array(source.rows);
  for (const [start, end] of rowGroupRanges(source)) {
    const t = await readParquetTable(source, { columns: [spec.target.column], rowStart: start, rowEnd: end });
    out.set(encodeTarget(spec.target, t.columns[spec.target.column]), start);
  }
  return out;
}

interface StreamRunnerInput {
  stream: TrainStream;
  validation: EncodedFeatures;
  /** The target in the units the network trains on (regression: scaled). */
  toModelUnits: (y: Float32Array) => Float32Array;
  opts: Pick<FitOptions, 'batchSize' | 'classWeight' | 'classes'>;
  random: () => number;
  /** Called with the rows visited by each epoch (tests count them; the fit reports them). */
  onEpoch?: (rows: number) => void;
}

/** Mean loss per row over the parts of an epoch, weighting each part's mean by its rows. */
async function streamedEpoch(
  s: StreamRunnerInput,
  trainPart: (part: EncodedPart) => number | Promise<number>,
): Promise<number> {
  let total = 0;
  const rows = await s.stream.epoch(s.random, async (part) => {
    total += (await trainPart({ enc: part.enc, y: s.toModelUnits(part.y) })) * part.y.length;
  });
  s.onEpoch?.(rows);
  return total / Math.max(1, rows);
}

/** training/embedding-trainer.ts over a stream: its Adam state carries from one part to the next. */
export function streamedTrainerEpochs(trainer: EmbeddingTrainer, s: StreamRunnerInput): EpochRunner {
  return {
    run: async (rate) => {
      trainer.rate = rate;
      const loss = await streamedEpoch(s, (part) =>
        trainer.epoch(part.enc, part.y, {
          batchSize: s.opts.batchSize,
          classWeight: s.opts.classWeight,
          random: s.random,
        }),
      );
      return { loss, predictions: trainer.predict(s.validation) };
    },
    snapshot: () => trainerSnapshot(trainer),
    dispose: () => {},
  };
}

/** tfjs's layers `fit` (dropout candidates) over a stream: one fit call per part, its optimizer kept by the model. */
export function streamedLayersEpochs(tf: TF, model: tfjs.LayersModel, s: StreamRunnerInput): EpochRunner {
  return {
    run: async (rate) => {
      setLearningRate(model, rate);
      const loss = await streamedEpoch(s, async (part) => {
        const inputs = toInputs(tf, part.enc);
        const labels = labelTensor(tf, part.y, s.opts.classes ?? 1);
        try {
          return await fitOneEpoch(tf, model, inputs, labels, s.random, s.opts);
        } finally {
          inputs.forEach((t) => t.dispose());
          labels.dispose();
        }
      });
      return { loss, predictions: predict(tf, model, s.validation) };
    },
    snapshot: () => layersSnapshot(model),
    dispose: () => {},
  };
}
