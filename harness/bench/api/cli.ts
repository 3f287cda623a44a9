/** What `bench:api` and `loadtest` share as command-line tools: numeric settings and failures. */
import { ServerNotReadyError } from './server-process.ts';

/** A positive number from the environment, or the fallback when unset or not a positive number. */
export function envNumber(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  const v = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isFinite(v) && v > 0 ? v : fallback;
}

export const REAL_API_NAME = 'real API';

/** The message for a failed run; a real API that never got ready most often lacks a model. */
export function describeFailure(tool: string, err: unknown): string {
  if (err instanceof ServerNotReadyError) {
    const hint = err.message.startsWith(REAL_API_NAME)
      ? "The API serves the registry's production model: run `npm start` first (it trains and registers one), or point REGISTRY_URL at a registry that has one.\n"
      : '';
    return `${tool}: ${err.message}\n--- server output (last lines) ---\n${err.output}\n---\n${hint}`;
  }
  return `${tool} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`;
}
