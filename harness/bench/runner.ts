/**
 * How long does the pipeline runner take to decide that nothing changed? Builds a throwaway
 * repository with `--mb` megabytes of input (default 300) and a stage that copies it, then runs
 * the pipeline three times, a second apart: the first run hashes, executes and caches; the second
 * re-hashes the outputs once (they were hashed within a second of being written, see
 * core/dvc/hash-cache.ts); the third must be answered from the md5 memo alone.
 *
 *   npm run bench:runner -- [--mb 300] [--files 30] [--no-cache] [--keep]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { memoryLogger } from '../../core/platform/log.ts';
import { defineCli, numberOption } from '../../core/platform/cli.ts';
import { runPipeline } from '../../training/pipeline/runner.ts';

const USAGE = `usage: npm run bench:runner -- [--mb 300] [--files 30] [--no-cache] [--keep]
  how long the pipeline runner takes to decide that nothing changed: a throwaway repository with
  --mb megabytes of input in --files files and a stage that copies it, run three times
  --no-cache  do not copy outputs into .dvc/cache
  --keep      keep the repository`;

await defineCli(
  {
    name: 'bench:runner',
    usage: USAGE,
    options: {
      mb: { type: 'string', default: '300' },
      files: { type: 'string', default: '30' },
      'no-cache': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  },
  async ({ values }) => {
    const mb = numberOption(values.mb, 'mb', { positive: true });
    const files = numberOption(values.files, 'files', { integer: true, min: 1 });
    const repo = await mkdtemp(join(tmpdir(), 'bench-pipeline-'));
    await mkdir(join(repo, 'data'));
    const chunk = randomBytes(1 << 20);
    for (let i = 0; i < files; i++) {
      const parts = Array.from({ length: Math.max(1, Math.round(mb / files)) }, (_, j) =>
        Buffer.concat([chunk.subarray(j), chunk.subarray(0, j)]),
      );
      await writeFile(join(repo, 'data', `part-${String(i).padStart(3, '0')}.bin`), Buffer.concat(parts));
    }
    await writeFile(
      join(repo, 'dvc.yaml'),
      `stages:
      copy:
        cmd: node -e "require('fs').cpSync('data','out',{recursive:true})"
        deps:
        - data
        outs:
        - out
    `,
    );
    const sink = new Writable({ write: (_c, _e, done) => done() });
    console.log(`repository: ${repo} (${files} files, ~${mb} MB in data/, same again in out/)`);
    // Files younger than a second are re-hashed (mtime granularity guard); real runs are further apart.
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));
    await settle();
    for (const label of ['first run (hash, execute, cache)', 'second run', 'third run']) {
      if (label !== 'first run (hash, execute, cache)') await settle();
      const t0 = performance.now();
      const r = await runPipeline({
        repoRoot: repo,
        log: memoryLogger(),
        stdout: sink,
        stderr: sink,
        cacheOutputs: !values['no-cache'],
      });
      console.log(
        `${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s  (${r.stages.map((s) => `${s.name}: ${s.status}`).join(', ')})`,
      );
    }
    if (!values.keep) await rm(repo, { recursive: true, force: true });
  },
).main();
