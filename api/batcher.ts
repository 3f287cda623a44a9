/**
 * Coalesces concurrent prediction requests into one model call: requests arriving within
 * `waitMs` (or while a call runs) share a batch of up to `maxRows` records. One tfjs call on 64
 * records costs about as much as on one, so throughput grows with load while each request waits at
 * most `waitMs` extra.
 */
import type { FieldError } from '../core/data/records.ts';
import { HttpError } from './errors.ts';
import { nonFiniteRows, type ModelManager, type ServedModel } from './model-manager.ts';
import type { ApiMetrics } from './prometheus.ts';

export interface BatchResult {
  model: ServedModel;
  /** null for a row with field errors, or one the model gave no finite output for (`failed`). */
  predictions: (number | null)[];
  /** Multi-class: every class's probability per record (predictions then hold the class index). */
  probabilities?: (number[] | null)[];
  errors: FieldError[][];
  /** Indices of valid rows without a finite output (the routes answer them as model_unhealthy). */
  failed: number[];
}

/** The answer for a row the model gave no finite output for. */
export function unhealthyRow(model: ServedModel): HttpError {
  return new HttpError(
    503,
    'model_unhealthy',
    `model ${model.name} v${model.version} gave no finite output for this input; retry later or on another replica`,
  );
}

interface Pending {
  records: unknown[];
  resolve: (r: BatchResult) => void;
  reject: (e: unknown) => void;
}

export class Batcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;

  constructor(
    private readonly manager: ModelManager,
    private readonly metrics: ApiMetrics,
    private readonly opts: { maxRows: number; waitMs: number },
    /** Sees every served batch (drift windows); must be cheap, it runs on the request path. */
    private readonly observer?: (model: ServedModel, out: ReturnType<ServedModel['bundle']['predictRecords']>) => void,
  ) {}

  submit(records: unknown[]): Promise<BatchResult> {
    return new Promise((resolve, reject) => {
      if (this.opts.waitMs < 0) {
        // Coalescing off: one model call per request, right away.
        this.run([{ records, resolve, reject }], records.length);
        return;
      }
      this.queue.push({ records, resolve, reject });
      this.queuedRows += records.length;
      if (this.queuedRows >= this.opts.maxRows) this.flush();
      else if (!this.timer && !this.immediate) {
        // waitMs 0: flush once the current I/O phase has parsed every request that arrived with it.
        if (this.opts.waitMs === 0) this.immediate = setImmediate(() => this.flush());
        else this.timer = setTimeout(() => this.flush(), this.opts.waitMs);
      }
    });
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    while (this.queue.length) {
      const batch: Pending[] = [];
      let rows = 0;
      while (this.queue.length && (batch.length === 0 || rows + this.queue[0].records.length <= this.opts.maxRows)) {
        const p = this.queue.shift()!;
        rows += p.records.length;
        batch.push(p);
      }
      this.queuedRows -= rows;
      this.run(batch, rows);
    }
  }

  private run(batch: Pending[], rows: number): void {
    const model = this.manager.acquire();
    if (!model) {
      const err = new HttpError(
        503,
        'model_not_ready',
        `no model is loaded yet (${this.manager.lastError ?? 'starting'}); retry shortly`,
      );
      for (const p of batch) p.reject(err);
      return;
    }
    try {
      const all = batch.length === 1 ? batch[0].records : batch.flatMap((p) => p.records);
      const started = performance.now();
      const out = model.bundle.predictRecords(all);
      const labels = { model: model.name };
      this.metrics.inference.observe(labels, (performance.now() - started) / 1000);
      this.metrics.batchSize.observe(labels, rows);
      for (const [feature, n] of Object.entries(out.oov))
        if (n) this.metrics.oov.inc({ model: model.name, feature }, n);
      const bad = nonFiniteRows(out);
      let valid = 0;
      for (const e of out.errors) if (e.length === 0) valid++;
      this.manager.reportOutputs(
        model,
        valid,
        bad.map((i) => all[i]),
      );
      // The other rows of a combined call are clean: they still count for drift, and get answers.
      for (const i of bad) out.predictions[i] = null;
      this.observer?.(model, out);
      let offset = 0;
      let next = 0; // index into `bad` (ascending)
      for (const p of batch) {
        const n = p.records.length;
        const failed: number[] = [];
        while (next < bad.length && bad[next] < offset + n) failed.push(bad[next++] - offset);
        p.resolve({
          model,
          predictions: out.predictions.slice(offset, offset + n),
          ...(out.probabilities ? { probabilities: out.probabilities.slice(offset, offset + n) } : {}),
          errors: out.errors.slice(offset, offset + n),
          failed,
        });
        offset += n;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.manager.release(model);
    }
  }
}
