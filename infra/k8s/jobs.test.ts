import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { readDvcConfig, resolveRemote } from '../../core/dvc/index.ts';
import { parse } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../deploy/cli.ts';
import { FakeRunner } from '../deploy/testing/fake-runner.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });

for (const file of ['trainer-job.yaml', 'score-indexed-job.yaml']) {
  test(`${file} is a valid Job that runs non-root without privilege escalation`, async () => {
    const doc = parse(await readFile(new URL(`./jobs/${file}`, import.meta.url), 'utf8'));
    const job = new Job(doc);
    job.validate();
    const pod = job.spec!.template.spec!;
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    for (const c of pod.containers) {
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
      assert.ok(c.resources?.requests && c.resources?.limits, `${c.name} has requests and limits`);
    }
  });
}

test("the trainer Job runs each pipeline stage in its own process, so its peak memory is one stage's", async () => {
  const doc = parse(await readFile(new URL('./jobs/trainer-job.yaml', import.meta.url), 'utf8'));
  const c = doc.spec.template.spec.containers[0];
  assert.match(c.args.join('\n'), /^\s*node --import tsx training\/cli\.ts start$/m);
  // training/pipeline/in-process.ts reads exactly the string "0" (a YAML number would not reach the pod as "0" from every tool).
  assert.equal(c.env.find((e: { name: string }) => e.name === 'PIPELINE_IN_PROCESS')?.value, '0');
  // core/registry records GITHUB_ACTOR, else USER, else 'unknown' as who registered the version.
  assert.ok(c.env.find((e: { name: string }) => e.name === 'USER')?.value, 'the registry names who registered it');
});

test('the trainer Job keeps what its pod would lose: trains, pushes the DVC outputs to the bucket, then stores the results for git beside the version', async () => {
  const doc = parse(await readFile(new URL('./jobs/trainer-job.yaml', import.meta.url), 'utf8'));
  const c = doc.spec.template.spec.containers[0];
  assert.deepEqual(c.command, ['sh', '-c']);
  const lines = (c.args as string[])
    .join('\n')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  // Each step only after the one before succeeded: no results stored for a run that failed, none
  // naming data the DVC remote does not hold.
  assert.equal(lines[0], 'set -eu');
  assert.deepEqual(
    lines.filter((l) => /^(again )?node /.test(l)),
    [
      'node --import tsx training/cli.ts start',
      // A finished training run is lost with its pod if these fail: each is tried again (below).
      'again node --import tsx training/dvc/cli.ts push',
      'again node --import tsx training/registry/cli.ts put-run',
    ],
  );
  const env = (name: string) => c.env.find((e: { name: string }) => e.name === name)?.value;
  assert.equal(
    env('DVC_REMOTE_URL'),
    'gs://${GCS_BUCKET}/dvc',
    "the train workflow's DVC remote (trainer-runtime writes dvc/)",
  );
  assert.equal(env('REGISTRY_URL'), 'gs://${GCS_BUCKET}/registry');
  // The line that points DVC at that remote, run by sh as in the pod, gives the config the push reads.
  const configLine = lines.find((l) => l.includes('.dvc/config.local'));
  assert.ok(configLine, 'the script writes .dvc/config.local');
  const dir = await mkdtemp(join(tmpdir(), 'trainer-job-'));
  try {
    await mkdir(join(dir, '.dvc'));
    await writeFile(
      join(dir, '.dvc', 'config'),
      '[core]\n    remote = local\n[\'remote "local"\']\n    url = ../.dvc-remote\n',
    );
    const sh = spawnSync('sh', ['-c', `set -eu\n${configLine}`], {
      cwd: dir,
      env: { ...process.env, DVC_REMOTE_URL: 'gs://acme-bucket/dvc' },
      encoding: 'utf8',
    });
    assert.equal(sh.status, 0, sh.stderr);
    assert.deepEqual(resolveRemote(await readDvcConfig(dir), dir), { name: 'bucket', url: 'gs://acme-bucket/dvc' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the Indexed Job gives every pod its shard through JOB_COMPLETIONS and the completion index', async () => {
  const doc = parse(await readFile(new URL('./jobs/score-indexed-job.yaml', import.meta.url), 'utf8'));
  assert.equal(doc.spec.completionMode, 'Indexed');
  const c = doc.spec.template.spec.containers[0];
  assert.equal(c.env.find((e: { name: string }) => e.name === 'JOB_COMPLETIONS').value, String(doc.spec.completions));
  assert.match(c.args[0], /score-batch\.ts/);
  assert.match(c.args[0], /part-\$\{JOB_COMPLETION_INDEX\}/);
});

// The command a person copies from a Job's header must work with nothing else set (no GCS_BUCKET in the shell).
const IMAGE = `europe-west1-docker.pkg.dev/acme-ml/gitops-ml/trainer@sha256:${'c'.repeat(64)}`;
for (const file of [
  'infra/k8s/jobs/trainer-job.yaml',
  'infra/k8s/jobs/score-indexed-job.yaml',
  '.github/workflows/trainer-image.yml',
]) {
  test(
    `the render command documented in ${file} fills every placeholder`,
    { skip: kubectl.error ? `kubectl not available (${kubectl.error.message})` : false },
    async () => {
      const text = await readFile(join(ROOT, file), 'utf8');
      const commands = [...text.matchAll(/^#\s+npm run --silent deploy -- (--render [^|\n]*)/gm)].map((m) =>
        m[1].trim(),
      );
      assert.ok(commands.length, `${file} documents how to render the Job`);
      for (const command of commands) {
        const argv = command
          .split(/\s+/)
          .map((a) => a.replace(/<(ref@sha256:…|digest)>/, IMAGE).replace(/<[^>]+>/, 'acme-ml-gitops-ml'));
        const out = await runCli(argv, new FakeRunner(), {});
        assert.equal(out.code, 0, `${command}: ${JSON.stringify(out.result)}`);
        assert.doesNotMatch(out.rendered!, /\$\{(GCP_PROJECT|GCS_BUCKET)\}/);
      }
    },
  );
}

test('the trainer Job tries the push and put-run 3 times, and fails the Job rather than train again in a new pod', async () => {
  const doc = parse(await readFile(new URL('./jobs/trainer-job.yaml', import.meta.url), 'utf8'));
  const c = doc.spec.template.spec.containers[0];
  const script = (c.args as string[]).join('\n');
  const again = /^again\(\) \{\n[\s\S]*?\n\}$/m.exec(script.replace(/^ +/gm, ''))?.[0];
  assert.ok(again, 'the script defines again()');
  const dir = await mkdtemp(join(tmpdir(), 'trainer-again-'));
  try {
    // A command that fails twice, then succeeds: three attempts, success.
    const flaky = `n=$(cat ${dir}/count 2>/dev/null || echo 0); echo $((n + 1)) > ${dir}/count; [ "$n" -ge 2 ]`;
    const run = (command: string) =>
      spawnSync('sh', ['-c', `set -eu\n${again}\nagain sh -c '${command}'\necho after`], {
        env: { ...process.env, RETRY_WAIT_S: '0' },
        encoding: 'utf8',
      });
    const ok = run(flaky);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((await readFile(join(dir, 'count'), 'utf8')).trim(), '3');
    assert.match(ok.stderr, /attempt 1 of 3 failed: .*\nattempt 2 of 3 failed: /);
    assert.equal(ok.stdout, 'after\n');
    const never = run('exit 7');
    assert.notEqual(never.status, 0, 'three failures fail the script (set -e)');
    assert.match(never.stderr, /gave up after 3 attempts/);
    assert.equal(never.stdout, '', 'nothing after it runs');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(c.env.find((e: { name: string }) => e.name === 'RETRY_WAIT_S')?.value, '15');
  // A failed pod fails the Job (another would train from scratch and register a second version);
  // a pod the cluster took away is replaced.
  const rules = doc.spec.podFailurePolicy.rules as { action: string }[];
  assert.deepEqual(rules, [
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
    { action: 'FailJob', onExitCodes: { containerName: 'trainer', operator: 'NotIn', values: [0] } },
  ]);
  assert.equal(doc.spec.template.spec.restartPolicy, 'Never', 'podFailurePolicy needs restartPolicy Never');
});
