/** Shared fixtures for stage tests: a temporary repository with its own params and sources. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseParams, type Params } from '../../../core/schemas/params.ts';
import { memoryLogger } from '../../../core/platform/log.ts';
import { tempDir } from '../lifecycle.ts';

/** An empty directory for a stage's repository, removed when the test process exits. */
export function tempRepo(): Promise<string> {
  return tempDir('gitops-ml-');
}

/** The repository's params.yaml with overrides merged one level deep per section. */
export async function testParams(overrides: { [K in keyof Params]?: Partial<Params[K]> } = {}): Promise<Params> {
  const base = parseParams(await readFile(new URL('../../../params.yaml', import.meta.url), 'utf8'));
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overrides)) out[k] = { ...(base as Record<string, object>)[k], ...v };
  return out as Params;
}

/** A flights-like CSV: `rows` records, hourly from 2001-01-01, optionally shuffled. */
export function flightsCsv(rows: number, options: { shuffle?: boolean; startHour?: number } = {}): string {
  const lines: string[] = [];
  const airports = ['ATL', 'ORD', 'DFW', 'LAX', 'SFO'];
  for (let i = 0; i < rows; i++) {
    const h = (options.startHour ?? 0) + i;
    const date = new Date(Date.UTC(2001, 0, 1, h)).toISOString().replace('T', ' ').slice(0, 16);
    // Flights out of ORD run 25 minutes later, so models have a real signal to find.
    const delay = ((i * 7) % 60) - 10 + (airports[i % 5] === 'ORD' ? 25 : 0);
    lines.push(`${date},${delay},${100 + ((i * 37) % 900)},${airports[i % 5]},${airports[(i + 2) % 5]}`);
  }
  if (options.shuffle) {
    // Deterministic shuffle (reverse in blocks) so tests do not depend on Math.random.
    lines.reverse();
  }
  return ['date,delay,distance,origin,destination', ...lines].join('\n') + '\n';
}

export async function writeSource(repo: string, name: string, content: string | Buffer): Promise<string> {
  const path = join(repo, name);
  await writeFile(path, content);
  return path;
}

export const quietLog = () => memoryLogger();
export const noTrack = async () => {};
