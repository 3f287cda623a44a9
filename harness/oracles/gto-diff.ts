/**
 * Session-only oracle (never in CI: it needs a real GTO, assembled per
 * /work/shared/oracles/real-dvc-gto.md or `pip install gto==1.10.1`): random GTO tag histories
 * (registrations, assignments, unassignments, deregistrations, deprecations; tagger times that tie
 * now and then), each read by the real `gto show --json` (sorted by timestamp and by semver) and by
 * core/registry/gto-state.ts, which must agree on every stage and on `latest`. Then the real
 * `gto assign` must name its tag with the counter nextGtoCounter predicts, annotated, with the
 * message gtoTagMessage writes.
 *
 *   node --import tsx harness/oracles/gto-diff.ts --gto /path/to/gto --runs 40 --seed 7
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCli } from '../../core/platform/cli.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { gitIn, gtoTagMessage, nextGtoCounter, readGitTags, resolveGtoState } from '../../core/registry/index.ts';

const A = 'm';
const STAGES = ['dev', 'staging', 'prod'];

/** A small linear congruential generator: the same seed gives the same histories. */
function generator(seed: number) {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return { rand, pick: <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] };
}

type GtoShow = Record<string, { version: string | null; stage: Record<string, string | null> }>;

/** One random history; returns what disagrees (empty when GTO and gto-state.ts agree). */
export async function oneHistory(gtoBin: string, run: number, seed: number): Promise<string[]> {
  const { rand, pick } = generator(seed);
  const dir = await mkdtemp(join(tmpdir(), 'gto-diff-'));
  const git = (args: string[], env: Record<string, string> = {}) =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  const gto = (args: string[]) => execFileSync(gtoBin, args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  try {
    git(['init', '-q']);
    const commits: string[] = [];
    for (let i = 0; i < 5; i++) {
      git(['-c', 'user.name=a', '-c', 'user.email=a@x', 'commit', '-q', '--allow-empty', '-m', `c${i}`]);
      commits.push(git(['rev-parse', 'HEAD']).trim());
    }
    let time = 1_700_000_000;
    const versions = new Map<string, string>();
    const names = () => git(['tag', '--list']).split('\n').filter(Boolean);
    const tag = (name: string, commit: string, message: string) => {
      if (rand() < 0.7) time += 1 + Math.floor(rand() * 100);
      git(['-c', 'user.name=p', '-c', 'user.email=p@x', 'tag', '-a', name, '-m', message, commit], {
        GIT_COMMITTER_DATE: `${time} +0000`,
      });
    };
    const log: string[] = [];
    const ops = 6 + Math.floor(rand() * 10);
    for (let k = 0; k < ops; k++) {
      const r = rand();
      const free = commits.filter((c) => ![...versions.values()].includes(c));
      if ((r < 0.3 || !versions.size) && free.length) {
        const v = `v${1 + Math.floor(rand() * 3)}.${Math.floor(rand() * 3)}.${Math.floor(rand() * 2)}`;
        if (versions.has(v)) continue;
        versions.set(v, pick(free));
        tag(`${A}@${v}`, versions.get(v)!, gtoTagMessage('register', A, { version: v }));
        log.push(`register ${v}`);
      } else if (r < 0.87) {
        const v = pick([...versions.keys()]);
        const stage = pick(STAGES);
        const cancel = r >= 0.75;
        const action = cancel ? 'unassign' : 'assign';
        tag(
          `${A}#${stage}${cancel ? '!' : ''}#${nextGtoCounter(names(), A)}`,
          versions.get(v)!,
          gtoTagMessage(action, A, { stage, version: v }),
        );
        log.push(`${action} ${v} ${stage}`);
      } else if (r < 0.95) {
        const v = pick([...versions.keys()]);
        if (names().includes(`${A}@${v}!`)) continue;
        tag(`${A}@${v}!`, versions.get(v)!, gtoTagMessage('deregister', A, { version: v }));
        log.push(`deregister ${v}`);
      } else {
        tag(`${A}@deprecated#${nextGtoCounter(names(), A)}`, commits[0], gtoTagMessage('deprecate', A));
        log.push('deprecate');
      }
    }
    const problems: string[] = [];
    const history = `[${log.join('; ')}]`;
    for (const sort of ['timestamp', 'semver'] as const) {
      const ours = resolveGtoState(await readGitTags(gitIn(dir)), { sort }).get(A);
      const real = (JSON.parse(gto(['show', '--json', '--sort', sort, '--deprecated'])) as GtoShow)[A];
      const mine = Object.entries(ours?.stages ?? {}).map(([s, h]) => [s, h.version]);
      const theirs = Object.entries(real?.stage ?? {}).filter(([, v]) => v);
      if (JSON.stringify(mine.sort()) !== JSON.stringify(theirs.sort()))
        problems.push(
          `run ${run} (${sort}): stages ${JSON.stringify(mine)} here, ${JSON.stringify(theirs)} in gto ${history}`,
        );
      if ((ours?.latest ?? null) !== (real?.version ?? null))
        problems.push(`run ${run} (${sort}): latest ${ours?.latest} here, ${real?.version} in gto ${history}`);
    }
    const state = resolveGtoState(await readGitTags(gitIn(dir))).get(A);
    const active = state?.versions.find((v) => v.registered && v.active);
    if (active && !state?.problems.length) {
      const predicted = `${A}#prod#${nextGtoCounter(names(), A)}`;
      gto(['assign', A, '--version', active.version, '--stage', 'prod', '--force']);
      if (!names().includes(predicted))
        problems.push(`run ${run}: gto assign did not make ${predicted}: ${names().join(' ')}`);
      else {
        const message = git(['tag', '-l', '--format=%(contents)', predicted]).trim();
        if (message !== gtoTagMessage('assign', A, { stage: 'prod', version: active.version }))
          problems.push(`run ${run}: gto's message ${JSON.stringify(message)}`);
        if (git(['cat-file', '-t', predicted]).trim() !== 'tag')
          problems.push(`run ${run}: gto made a lightweight tag`);
      }
    }
    return problems;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const USAGE = `usage: node --import tsx harness/oracles/gto-diff.ts [--gto <path>] [--runs N] [--seed S]
  random GTO tag histories read by the real gto and by core/registry/gto-state.ts: they must agree
  (stages by timestamp and by semver, latest, gto assign's counter, message and annotated tag)
options: --gto (default: $GTO, else gto on PATH), --runs (20), --seed (1)
exit: 0 all agree, 1 a disagreement (printed) or gto failed, 2 usage error`;

if (isMain(import.meta.url)) {
  await defineCli(
    {
      name: 'gto-diff',
      usage: USAGE,
      options: {
        gto: { type: 'string' },
        runs: { type: 'string', default: '20' },
        seed: { type: 'string', default: '1' },
      },
    },
    async ({ values }, io) => {
      const bin = values.gto ?? process.env.GTO ?? 'gto';
      const runs = Number(values.runs);
      let bad = 0;
      for (let i = 0; i < runs; i++) {
        const found = await oneHistory(bin, i, Number(values.seed) * 1000 + i);
        if (found.length) bad++;
        for (const line of found) io.stdout(line + '\n');
      }
      io.stdout(`${runs - bad} of ${runs} random histories agree with ${bin}\n`);
      return bad ? 1 : 0;
    },
  ).main();
}
