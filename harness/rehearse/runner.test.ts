/**
 * The runner semantics of a whole run on a small workflow written for the test: env layering and
 * GITHUB_ENV across steps (heredoc form), step outputs → job outputs → needs, GITHUB_PATH,
 * GITHUB_STEP_SUMMARY, working-directory and defaults.run, continue-on-error, timeout-minutes,
 * a matrix, and a job skipped because its need failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSandbox } from './sandbox.ts';
import { runWorkflow } from './run.ts';
import { loadWorkflow } from './workflow.ts';
import { tempDir } from '../testing/lifecycle.ts';

const REPO = join(import.meta.dirname, '..', '..');

const WORKFLOW = `name: semantics
on: push
permissions: {}
env:
  LEVEL: workflow
  KEEP: from-workflow
defaults:
  run:
    working-directory: sub
jobs:
  first:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    env:
      LEVEL: job
    outputs:
      greeting: \${{ steps.make.outputs.greeting }}
      multi: \${{ steps.make.outputs.multi }}
    steps:
      - run: mkdir -p sub
        working-directory: .
      - id: make
        run: |
          test "$LEVEL" = job && test "$KEEP" = from-workflow && test "$(basename "$PWD")" = sub
          echo "greeting=hello $GITHUB_REF_NAME" >> "$GITHUB_OUTPUT"
          { echo 'multi<<EOF_1'; echo 'line a'; echo 'line b'; echo 'EOF_1'; } >> "$GITHUB_OUTPUT"
          { echo 'FROM_ENV<<XYZ'; echo 'x=1'; echo 'XYZ'; } >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/tools" && printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/tools/mytool" && chmod +x "$RUNNER_TEMP/tools/mytool"
          echo "$RUNNER_TEMP/tools" >> "$GITHUB_PATH"
          echo '### summary line' >> "$GITHUB_STEP_SUMMARY"
      - name: Step env wins over GITHUB_ENV, which wins over job env
        env:
          LEVEL: step
        run: test "$FROM_ENV" = x=1 && test "$LEVEL" = step && test "$(mytool)" = tool-ran
      - name: allowed to fail
        continue-on-error: true
        run: exit 3
      - name: too slow
        id: slow
        continue-on-error: true
        timeout-minutes: 0.02
        run: sleep 30
      - name: status still success
        run: echo "slow was \${{ steps.slow.outcome }}/\${{ steps.slow.conclusion }}"
  second:
    needs: first
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - env:
          G: \${{ needs.first.outputs.greeting }}
          M: \${{ needs.first.outputs.multi }}
        working-directory: .
        run: |
          test "$G" = "hello main" && test "$M" = "$(printf 'line a\\nline b')"
          test "\${{ matrix.n }}" -ge 1
  broken:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - name: fails
        working-directory: .
        run: echo "::error::something specific broke" && exit 1
      - name: not reached
        run: echo no
  after-broken:
    needs: broken
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - run: echo never
`;

test(
  'a run follows the runner: env layering, file commands, outputs across jobs, continue-on-error, timeouts, matrix, skipped needs',
  { timeout: 120_000 },
  async () => {
    const dir = await tempDir('semantics-');
    await writeFile(join(dir, 'semantics.yml'), WORKFLOW);
    const sandbox = await createSandbox(REPO, ['main'], { committedOnly: true });
    const lines: string[] = [];
    try {
      const workflow = await loadWorkflow(join(dir, 'semantics.yml'));
      const sha = (await import('./sandbox.ts')).git(sandbox.origin, 'rev-parse', 'refs/heads/main');
      const r = await runWorkflow({
        workflow,
        event: { name: 'push', ref: 'refs/heads/main', sha: await sha, actor: 't', payload: {} },
        sandbox,
        runId: 1,
        vars: {},
        secrets: {},
        lock: {},
        hostEnv: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
        print: (l) => lines.push(l),
      });
      const job = (id: string) => r.jobs.find((j) => j.id === id)!;
      assert.equal(job('first').result, 'success', lines.join('\n'));
      assert.deepEqual(job('first').outputs, { greeting: 'hello main', multi: 'line a\nline b' });
      const steps = job('first').steps;
      assert.deepEqual(
        steps.find((s) => s.name === 'allowed to fail')!,
        { ...steps.find((s) => s.name === 'allowed to fail')!, outcome: 'failure', conclusion: 'success' },
      );
      assert.match(steps.find((s) => s.name === 'too slow')!.error ?? '', /exceeded its timeout/);
      assert.ok(lines.some((l) => l.includes('slow was failure/success')));
      assert.equal(job('second').result, 'success');
      assert.ok(lines.filter((l) => l.startsWith('  matrix ')).length === 2, 'two matrix jobs');
      assert.equal(job('broken').result, 'failure');
      assert.equal(job('after-broken').result, 'skipped');
      assert.deepEqual(r.failures, [
        'job broken: step "fails": something specific broke; process exited with code 1: ::error::something specific broke'.replace(
          /^/,
          `${join(dir, 'semantics.yml')} `,
        ),
      ]);
      assert.match(r.summary, /### summary line/);
    } finally {
      await sandbox.close();
      await rm(sandbox.root, { recursive: true, force: true });
    }
  },
);
