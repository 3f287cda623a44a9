/**
 * Chooses the TensorFlow.js backend: native (`@tensorflow/tfjs-node`, an optional dependency that
 * cannot install everywhere) → WebAssembly → plain JavaScript. `TFJS_BACKEND` forces one.
 * Every caller logs the result, so a run's record says which backend produced its numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from '../platform/log.ts';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  tf: typeof tf;
  backend: BackendName;
  /** Backends tried before the chosen one, with why each was not used. */
  skipped: { backend: BackendName; reason: string }[];
}

export interface BackendLoaders {
  tensorflow: () => Promise<void>;
  wasm: () => Promise<void>;
  cpu: () => Promise<void>;
}

const require = createRequire(import.meta.url);

export const defaultLoaders: BackendLoaders = {
  async tensorflow() {
    // Importing tfjs-node registers the 'tensorflow' backend on the shared tfjs-core instance.
    const nativeModule = '@tensorflow/tfjs-node';
    await import(nativeModule);
  },
  async wasm() {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const pkgDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(join(pkgDir, 'dist') + '/');
  },
  async cpu() {
    // The cpu backend ships inside @tensorflow/tfjs and is always registered.
  },
};

export function parseBackendOverride(value: string | undefined): BackendName | undefined {
  if (value === undefined || value.trim() === '' || value === 'auto') return undefined;
  const v = value.trim().toLowerCase();
  const alias: Record<string, BackendName> = {
    native: 'tensorflow',
    node: 'tensorflow',
    tensorflow: 'tensorflow',
    wasm: 'wasm',
    cpu: 'cpu',
  };
  const name = alias[v];
  if (!name)
    throw new Error(`TFJS_BACKEND="${value}" is not a backend; use one of: native (tensorflow), wasm, cpu, auto`);
  return name;
}

let memo: Promise<BackendChoice> | undefined;

/**
 * Select and initialise the backend once per process. With an override, only that backend is
 * tried and failure is an error (a forced backend that silently changed would mislead benchmarks).
 */
export function selectBackend(
  options: { override?: string; log?: Logger; loaders?: BackendLoaders } = {},
): Promise<BackendChoice> {
  if (!options.loaders && memo) {
    // Chosen earlier in this process (the pipeline hosts several stages): said once at info, where
    // it was chosen; a later caller's log has it at debug.
    const log = options.log;
    return log ? memo.then((c) => (logChoice(log, c, 'debug'), c)) : memo;
  }
  const run = choose(options);
  if (!options.loaders) memo = run;
  return run;
}

async function choose(options: { override?: string; log?: Logger; loaders?: BackendLoaders }): Promise<BackendChoice> {
  const loaders = options.loaders ?? defaultLoaders;
  const forced = parseBackendOverride(options.override ?? process.env.TFJS_BACKEND);
  const candidates = forced ? [forced] : BACKEND_ORDER;
  const skipped: BackendChoice['skipped'] = [];
  for (const backend of candidates) {
    try {
      await loaders[backend]();
      const ok = await tf.setBackend(backend);
      if (!ok) throw new Error(`tf.setBackend('${backend}') returned false`);
      await tf.ready();
      const choice = { tf, backend, skipped };
      if (options.log) logChoice(options.log, choice);
      return choice;
    } catch (err) {
      const reason = notInstalled(err) ? NOT_INSTALLED[backend] : firstLine(err);
      if (forced)
        throw new Error(
          `TFJS_BACKEND=${forced} was requested but cannot start: ${reason}. Unset TFJS_BACKEND to fall back automatically.`,
          { cause: err },
        );
      skipped.push({ backend, reason });
    }
  }
  throw new Error(
    `no TensorFlow.js backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
  );
}

function logChoice(log: Logger, { backend, skipped }: BackendChoice, level: 'info' | 'debug' = 'info'): void {
  log[level](`tfjs backend: ${backend}`, { backend, skipped: skipped.map((s) => `${s.backend}: ${s.reason}`) });
}

/** An optional backend package that is simply absent: said in a few words, not as a resolver error with paths. */
const NOT_INSTALLED: Record<BackendName, string> = {
  tensorflow: 'not installed (optional: `npm install @tensorflow/tfjs-node` where libtensorflow can be downloaded)',
  wasm: 'not installed (`npm ci` installs @tensorflow/tfjs-backend-wasm)',
  cpu: 'not installed',
};

function notInstalled(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}
