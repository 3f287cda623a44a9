/**
 * The worker thread of ./gbdt-off-thread.ts: one tree candidate's fitGbdt (or a speculative refit,
 * ./refit-off-thread.ts), its log lines sent to
 * the thread that logs them, its trees sent back as trees.json's object (the same numbers: a
 * structured clone copies them bit for bit).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fitGbdt, refitTreesOnAll } from '../gbdt/fit-gbdt.ts';
import type { Logger, LogFields, LogLevel } from '../../core/platform/log.ts';
import type { GbdtJob, GbdtWorkerMessage } from './gbdt-off-thread.ts';
import { pendingCount, tellBest } from './refit-progress.ts';
import { post } from '../prune.ts';

const job = workerData as GbdtJob;
const port = parentPort!;
const send = (m: GbdtWorkerMessage) => port.postMessage(m);

function relayLogger(path: string[]): Logger {
  const emit = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (job.levels.includes(level)) send({ type: 'log', path, level, msg, fields });
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (c) => relayLogger([...path, c]),
    enabled: (level) => job.levels.includes(level),
  };
}

try {
  if (job.kind === 'fit') {
    const { progress, board } = job;
    const onBest =
      progress || board
        ? (iteration: number, value: number) => {
            if (progress) tellBest(progress, iteration);
            if (board) post(board, job.options.primary, value);
          }
        : undefined;
    const { model, ...fit } = fitGbdt(job.cfg, job.spec, job.data, { ...job.options, onBest, log: relayLogger([]) });
    send({ type: 'done', fit, trees: model.json });
  } else {
    const { model, ...refit } = refitTreesOnAll(job.cfg, job.spec, job.tables, pendingCount(job.progress), {
      ...job.options,
      log: relayLogger([]),
    });
    send({ type: 'refitted', refit, trees: model.json });
  }
} catch (err) {
  send({ type: 'failed', message: (err as Error).message });
}
