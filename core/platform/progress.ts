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
  options: { log: Logger; unit?: string; intervalMs?: number; interactive?: boolean; now?: () => number },
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
  const clock = options.now ?? Date.now;
  const started = clock();
  let last = started;
  return {
    update(done) {
      const now = clock();
      if (now - last < interval) return;
      last = now;
      const pct = total > 0 ? Math.round((100 * done) / total) : 0;
      const elapsed = (now - started) / 1000;
      const eta = done > 0 && total >= done ? Math.round((elapsed * (total - done)) / done) : null;
      options.log.info(
        `${label}: ${done}/${total} ${unit} (${pct}%)${eta === null ? '' : `, eta ${formatSeconds(eta)}`}`,
        {
          elapsed_s: Math.round(elapsed),
          ...(eta === null ? {} : { eta_s: eta }),
        },
      );
    },
    finish() {},
  };
}

/** 75 → "1m15s", 3725 → "1h02m", 9 → "9s". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
