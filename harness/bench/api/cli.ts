/** What `bench:api`, `bench:served` and `loadtest` share as command-line tools: numeric settings and failures. */
import { defineCli } from '../../../core/platform/cli.ts';
import { ServerNotReadyError } from './server-process.ts';

/** A positive number from the environment, or the fallback when unset or not a positive number. */
export function envNumber(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  const v = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isFinite(v) && v > 0 ? v : fallback;
}

export const REAL_API_NAME = 'real API';

/**
 * The error to report for a failed run: a server that never got ready comes with the end of its
 * output and, for the real API (which most often lacks a model), what to do about it.
 */
export function explainFailure(err: unknown): unknown {
  if (!(err instanceof ServerNotReadyError)) return err;
  const hint = err.message.startsWith(REAL_API_NAME)
    ? "\nThe API serves the registry's production model: run `npm start` first (it trains and registers one), or point REGISTRY_URL at a registry that has one."
    : '';
  return new Error(`${err.message}\n--- server output (last lines) ---\n${err.output}\n---${hint}`, { cause: err });
}

/** Run a bench that starts servers as a CLI: a failed start explained, the process ended even if a load run or a server's pipes still hold the event loop. */
export async function runServerBench(name: string, usage: string, main: () => Promise<number | void>): Promise<void> {
  await defineCli({ name, usage, forceExit: true }, async () => {
    try {
      return await main();
    } catch (err) {
      throw explainFailure(err);
    }
  }).main();
}
