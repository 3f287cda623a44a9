/**
 * `npm run ci:rehearse -- train|pr|deploy`: run what a workflow runs, locally and end to end,
 * against stand-ins for everything remote: a bare git repository (origin), a directory DVC
 * remote (`.dvc/config.local`) and the loopback GitHub API. Nothing leaves 127.0.0.1.
 *
 * The clone gets this working tree's `.github/` (so uncommitted scripts are rehearsed) and, when
 * present, its data/, artifacts/, registry/ and .pipeline/ so an unchanged pipeline is skipped.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exists } from '../../core/atomic.ts';
import { startFakeGitHub, type FakeGitHub } from './testing/fake-github.ts';

const REPO = join(import.meta.dirname, '..', '..');
const STEP_TIMEOUT_MS = Number(process.env.REHEARSE_STEP_TIMEOUT_MS ?? 600_000);

function say(line: string) {
  process.stdout.write(`\n\x1b[1m▶ ${line}\x1b[0m\n`);
}

/** Run a command, echo its output, fail loudly on a non-zero exit or the step timeout. */
function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (cmd !== 'git') process.stdout.write(d); });
    child.stderr.on('data', (d) => process.stderr.write(d));
    const timer = setTimeout(() => { process.kill(-child.pid!, 'SIGTERM'); }, STEP_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) ${signal ? `stopped by ${signal} after ${STEP_TIMEOUT_MS} ms` : `exited ${code}`}`));
    });
  });
}

interface Sandbox { tmp: string; bare: string; dvcRemote: string; clone: string; fake: FakeGitHub; summary: string }

async function sandbox(): Promise<Sandbox> {
  const tmp = await mkdtemp(join(tmpdir(), 'ci-rehearse-'));
  const bare = join(tmp, 'origin.git');
  const dvcRemote = join(tmp, 'dvc-remote');
  const clone = join(tmp, 'work');
  say(`sandbox ${tmp}: bare origin, DVC remote, loopback GitHub API`);
  await sh('git', ['init', '-q', '--bare', bare], tmp);
  await sh('git', ['push', '-q', bare, 'HEAD:refs/heads/model'], REPO);
  await sh('git', ['clone', '-q', '-b', 'model', bare, clone], tmp);
  await sh('git', ['config', 'user.email', 'rehearsal@example.com'], clone);
  await sh('git', ['config', 'user.name', 'rehearsal'], clone);
  await symlink(join(REPO, 'node_modules'), join(clone, 'node_modules'));
  await cp(join(REPO, '.github'), join(clone, '.github'), { recursive: true });
  for (const dir of ['data', 'artifacts', 'registry', '.pipeline']) {
    if (await exists(join(REPO, dir))) await cp(join(REPO, dir), join(clone, dir), { recursive: true });
  }
  await writeFile(join(clone, '.dvc', 'config.local'), `['remote "local"']\n    url = ${dvcRemote}\n`);
  const fake = await startFakeGitHub();
  const summary = join(tmp, 'step-summary.md');
  await writeFile(summary, ''); // the runner creates it; @actions/core refuses a missing file
  return { tmp, bare, dvcRemote, clone, fake, summary };
}

function githubEnv(s: Sandbox, event: string, payloadPath: string): Record<string, string> {
  return {
    GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: payloadPath, GITHUB_TOKEN: 'ghs_rehearsal', GITHUB_REPOSITORY: 'acme/gitops-ml',
    GITHUB_API_URL: s.fake.url, GITHUB_STEP_SUMMARY: s.summary,
  };
}

function printCalls(fake: FakeGitHub) {
  say(`recorded GitHub API calls (${fake.calls.length})`);
  for (const c of fake.calls) {
    const q = Object.keys(c.query).length ? `?${new URLSearchParams(c.query)}` : '';
    const body = c.body && typeof c.body === 'object' && 'body' in c.body ? ` body: ${String((c.body as { body: string }).body).length} chars` : '';
    console.log(`  ${c.method} ${c.path}${q}${body}`);
  }
}

function printComment(body: string) {
  const cut = body.indexOf('<details>');
  say('comment that would be posted (headline; the full report follows inside <details>)');
  console.log(cut > 0 ? `${body.slice(0, cut)}<details>… ${body.length - cut} more characters …</details>` : body);
}

async function pipeline(s: Sandbox) {
  say('npm run pipeline:start (ingest + dvc.yaml pipeline; unchanged stages are skipped)');
  await sh('npm', ['run', '-s', 'pipeline:start'], s.clone);
  say('npm run data:push (to the DVC remote in .dvc/config.local)');
  await sh('npm', ['run', '-s', 'data:push'], s.clone);
}

const head = async (cwd: string, rev = 'HEAD') => (await sh('git', ['rev-parse', rev], cwd)).trim();

async function train(s: Sandbox) {
  await pipeline(s);
  say('commit the run (dvc.lock, data.dvc, metrics/) and push to origin, as the train workflow does');
  await sh('git', ['add', 'dvc.lock', 'data.dvc', 'metrics'], s.clone);
  const dirty = await sh('git', ['status', '--porcelain', '--', 'dvc.lock', 'data.dvc', 'metrics'], s.clone);
  if (dirty.trim()) await sh('git', ['commit', '-q', '-m', 'Retrain (rehearsal) [skip ci]'], s.clone);
  await sh('git', ['push', '-q', 'origin', 'model'], s.clone);
  say('fresh clone + npm run data:pull (proves the DVC remote holds everything)');
  const second = join(s.tmp, 'second');
  await sh('git', ['clone', '-q', '-b', 'model', s.bare, second], s.tmp);
  await symlink(join(REPO, 'node_modules'), join(second, 'node_modules'));
  await writeFile(join(second, '.dvc', 'config.local'), `['remote "local"']\n    url = ${s.dvcRemote}\n`);
  await sh('npm', ['run', '-s', 'data:pull'], second);
  console.log(`  data/ in the fresh clone: ${(await readdir(join(second, 'data'))).length} files`);
  say('npm run gh:tag (GTO tags → origin), twice: the second run skips');
  await sh('npm', ['run', '-s', 'gh:tag'], s.clone);
  await sh('npm', ['run', '-s', 'gh:tag'], s.clone);
  console.log(`  tags on origin: ${(await sh('git', ['tag', '--list'], s.bare)).trim().split('\n').join(' ')}`);
  const sha = await head(s.clone);
  const event = join(s.tmp, 'push.json');
  await writeFile(event, JSON.stringify({ ref: 'refs/heads/model', before: await head(s.clone, 'HEAD~1'), after: sha, head_commit: { id: sha, message: 'rehearsal', author: { name: 'rehearsal' } }, repository: { full_name: 'acme/gitops-ml' }, sender: { login: 'rehearsal', type: 'User' } }));
  say('npm run gh:publish-report (push event → commit comment + job summary)');
  await sh('npm', ['run', '-s', 'gh:publish-report'], s.clone, githubEnv(s, 'push', event));
  printComment(s.fake.commitComments[0]?.body ?? '(none)');
  printCalls(s.fake);
}

async function pr(s: Sandbox) {
  await pipeline(s);
  await sh('git', ['checkout', '-q', '-b', 'rehearsal-pr'], s.clone);
  s.fake.seedIssueComments('acme/gitops-ml', 1, Array.from({ length: 130 }, (_, i) => ({ body: `review ${i}`, login: 'ada' })));
  const prEvent = async (sha: string, fork = false) => {
    const path = join(s.tmp, `pr-${fork ? 'fork' : 'same'}.json`);
    const headRepo = fork ? 'mallory/gitops-ml' : 'acme/gitops-ml';
    await writeFile(path, JSON.stringify({ action: 'synchronize', number: 1, pull_request: { number: 1, head: { ref: 'rehearsal-pr', sha, repo: { full_name: headRepo } }, base: { ref: 'model', sha: await head(s.clone, 'origin/model'), repo: { full_name: 'acme/gitops-ml' } } }, repository: { full_name: 'acme/gitops-ml' } }));
    return path;
  };
  say('npm run gh:publish-report (pull_request, 130 comments already on the PR) → creates the sticky comment');
  await sh('npm', ['run', '-s', 'gh:publish-report'], s.clone, githubEnv(s, 'pull_request', await prEvent(await head(s.clone))));
  await sh('git', ['commit', '-q', '--allow-empty', '-m', 'rehearsal: second push'], s.clone);
  say('second push to the PR → the same comment is edited');
  await sh('npm', ['run', '-s', 'gh:publish-report'], s.clone, githubEnv(s, 'pull_request', await prEvent(await head(s.clone))));
  say('fork PR: read-only token (403) → summary + pr-comment.md; then the workflow_run job posts it');
  s.fake.readOnly = true;
  await sh('npm', ['run', '-s', 'gh:publish-report'], s.clone, githubEnv(s, 'pull_request', await prEvent(await head(s.clone), true)));
  s.fake.readOnly = false;
  const handover = join(s.tmp, 'artifact');
  await cp(join(s.clone, 'pr-comment.md'), join(handover, 'pr-comment.md'));
  await cp(join(s.clone, 'pr-number.txt'), join(handover, 'pr-number.txt'));
  const run = join(s.tmp, 'workflow_run.json');
  await writeFile(run, JSON.stringify({ action: 'completed', workflow_run: { name: 'pr-report', conclusion: 'success', head_sha: await head(s.clone), head_branch: 'rehearsal-pr', pull_requests: [], repository: { full_name: 'acme/gitops-ml' }, head_repository: { full_name: 'mallory/gitops-ml' } } }));
  await sh('npm', ['run', '-s', 'gh:publish-report'], s.clone, { ...githubEnv(s, 'workflow_run', run), REPORT_COMMENT_FILE: join(handover, 'pr-comment.md') });
  const ours = s.fake.issueComments.get('acme/gitops-ml#1')!.filter((c) => c.body.startsWith('<!-- gitops-ml-report -->'));
  console.log(`  comments on PR #1: ${s.fake.issueComments.get('acme/gitops-ml#1')!.length}; with the marker: ${ours.length} (edited ${ours[0]?.created_at !== ours[0]?.updated_at ? 'yes' : 'no'})`);
  printComment(ours[0]?.body ?? '(none)');
  printCalls(s.fake);
}

const freePort = () => new Promise<number>((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as { port: number };
    srv.close(() => resolve(port));
  });
});

async function deploy() {
  say('planned deploy-api steps (on the api branch)');
  for (const step of [
    'checkout; npm ci; npm test', 'resolve registry production version → image tag', 'docker build -f api/Dockerfile; push to Artifact Registry',
    'kustomize edit set image (infra/k8s overlay); kubectl apply -k; kubectl rollout status', 'smoke test: GET /readyz, POST /predict; roll back on failure',
  ]) console.log(`  - ${step}`);
  const port = await freePort();
  say(`smoke test against a local npm run serve on 127.0.0.1:${port}`);
  const server = spawn('npm', ['run', '-s', 'serve'], { cwd: REPO, env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_FORMAT: 'text' }, stdio: 'ignore', detached: true });
  const base = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 90_000;
    let ready = 0;
    while (Date.now() < deadline && ready !== 200) {
      ready = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
      if (ready !== 200) await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`  GET /readyz → ${ready}`);
    if (ready !== 200) throw new Error('the API did not become ready within 90 s (is there a production model? run npm run pipeline:start)');
    const res = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ date: '2001-01-09T14:35:00Z', distance: 733, origin: 'ATL', destination: 'ORD' }) });
    console.log(`  POST /predict → ${res.status} ${await res.text()}`);
    if (!res.ok) throw new Error('smoke test failed: /predict did not answer 200');
  } finally {
    process.kill(-server.pid!, 'SIGTERM');
  }
}

const mode = process.argv[2];
const started = Date.now();
let s: Sandbox | null = null;
try {
  if (mode === 'deploy') await deploy();
  else if (mode === 'train' || mode === 'pr') {
    s = await sandbox();
    await (mode === 'train' ? train(s) : pr(s));
    const summary = await readFile(s.summary, 'utf8').catch(() => '');
    say(`job summary: ${summary.length} characters in ${s.summary}`);
  } else {
    console.error('usage: npm run ci:rehearse -- train|pr|deploy');
    process.exitCode = 2;
  }
  if (process.exitCode === undefined) say(`rehearsal ${mode} passed in ${((Date.now() - started) / 1000).toFixed(1)} s${s ? `; sandbox kept in ${s.tmp}` : ''}`);
} catch (err) {
  console.error(`\nrehearsal ${mode} FAILED: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await s?.fake.close();
}
