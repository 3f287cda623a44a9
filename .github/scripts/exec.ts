/** The real command runner; scripts take a `Runner` parameter so tests can pass a fake. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Runner } from './metrics-diff.ts';

export const execRunner: Runner = async (cmd, args, opts = {}) =>
  (await promisify(execFile)(cmd, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 })).stdout;
