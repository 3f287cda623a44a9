/**
 * Progress for long work: a bar on an interactive terminal, a log line every few seconds
 * elsewhere (CI logs stay readable and show the job is alive).
 */
import cliProgress from 'cli-progress';
import type { Logger } from './log.ts';

export interface Progress {
  update(done: number): void;
  finish(): void;
}

export function createProgress(
  label: string,
  total: number,
  options: { log: Logger; unit?: string; intervalMs?: number; interactive?: boolean },
): Progress {
  const unit = options.unit ?? 'rows';
  const interactive = options.interactive ?? (Boolean(process.stderr.isTTY) && !process.env.CI);
  if (interactive && total > 0) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% {value}/{total} ${unit} eta {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (d) => bar.update(Math.min(d, total)), finish: () => bar.stop() };
  }
  const interval = options.intervalMs ?? 5000;
  const started = Date.now();
  let last = started;
  return {
    update(done) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      const pct = total > 0 ? Math.round((100 * done) / total) : 0;
      options.log.info(`${label}: ${done}/${total} ${unit} (${pct}%)`, {
        elapsed_s: Math.round((now - started) / 1000),
      });
    },
    finish() {},
  };
}
