/**
 * The deploy tool applies the real infra/k8s overlays (rendered offline by `kubectl kustomize`):
 * placeholders filled from --project/--bucket, the release's digest on the targeted workloads, the
 * running image and replica count kept on the others, the live blue-green track kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { FakeRunner } from './testing/fake-runner.ts';
import { runCli } from './cli.ts';
import type { Manifest } from './render.ts';

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const skip = kubectl.error ? `kubectl not available (${kubectl.error.message})` : false;

const NEW = 'europe-west1-docker.pkg.dev/acme-ml/gitops-ml/api@sha256:' + 'b'.repeat(64);
const OLD = 'europe-west1-docker.pkg.dev/acme-ml/gitops-ml/api@sha256:' + 'a'.repeat(64);
const SETTINGS = ['--project', 'acme-ml', '--bucket', 'acme-ml-gitops-ml'];

function cluster(live: Record<string, { image: string; replicas: number }> = {}, track = 'blue'): FakeRunner {
  const r = new FakeRunner();
  r.realKustomize = true;
  const items = Object.entries(live).map(([name, d]) => ({
    metadata: { name },
    spec: { replicas: d.replicas, template: { spec: { containers: [{ name: 'api', image: d.image }] } } },
  }));
  r.on(/get deployments -o json/, { stdout: JSON.stringify({ items }) });
  r.on(/get service flight-delay-api -o jsonpath/, { stdout: track });
  r.httpRules.push(
    [/GET .*\/readyz$/, { status: 200, json: {} }],
    [/GET .*\/v1\/models\/flight-delay$/, { status: 200, json: { inputs: [] } }],
    [/POST .*:predict$/, { status: 200, json: { model_version: '3', predictions: [{}] } }],
  );
  return r;
}

const applied = (r: FakeRunner): Manifest[] => {
  assert.equal(r.stdin.length, 1, 'one kubectl apply -f - with the rendered List');
  return (JSON.parse(r.stdin[0]) as { items: Manifest[] }).items;
};
const imageOf = (ms: Manifest[], name: string) =>
  ms.find((m) => m.kind === 'Deployment' && m.metadata.name === name)!.spec?.template?.spec?.containers[0].image;

test(
  'rolling --overlay production: Namespace first, every placeholder filled, the digest on stable and twin',
  { skip },
  async () => {
    const r = cluster();
    const out = await runCli(['--strategy', 'rolling', '--image', NEW, '--overlay', 'production', ...SETTINGS], r);
    assert.equal(out.code, 0, JSON.stringify(out.result));
    const ms = applied(r);
    assert.equal(ms[0].kind, 'Namespace');
    assert.equal(ms[0].metadata.name, 'flight-delay');
    const text = JSON.stringify(ms);
    assert.doesNotMatch(text, /\$\{GCP_PROJECT\}|\$\{GCS_BUCKET\}/);
    assert.match(text, /api-runtime@acme-ml\.iam\.gserviceaccount\.com/);
    assert.match(text, /gs:\/\/acme-ml-gitops-ml\/registry/);
    assert.equal(imageOf(ms, 'flight-delay-api'), NEW);
    assert.equal(imageOf(ms, 'flight-delay-api-preprod'), NEW);
    // apply comes before the rollout it waits for
    const i = (re: RegExp) => r.calls.findIndex((c) => re.test(c));
    assert.ok(i(/apply -f -/) < i(/rollout status/));
  },
);

test(
  'canary --overlay canary: the canary gets the release, stable keeps its running image and autoscaled replicas',
  { skip },
  async () => {
    const r = cluster({
      'flight-delay-api': { image: OLD, replicas: 7 },
      'flight-delay-api-canary': { image: OLD, replicas: 0 },
    });
    r.promAnswers = () => 0;
    await runCli(
      ['--strategy', 'canary', '--image', NEW, '--overlay', 'canary', '--window-ms', '30000', ...SETTINGS],
      r,
    );
    const ms = applied(r);
    assert.equal(imageOf(ms, 'flight-delay-api-canary'), NEW);
    assert.equal(imageOf(ms, 'flight-delay-api'), OLD, 're-applying the overlay does not revert or advance stable');
    assert.equal(
      ms.find((m) => m.metadata.name === 'flight-delay-api' && m.kind === 'Deployment')!.spec?.replicas,
      7,
      'the HPA keeps its count',
    );
  },
);

test(
  'blue-green --overlay blue-green: idle track gets the release, the live track and the live selector are kept',
  { skip },
  async () => {
    // git's service-selector.yaml says blue; the cluster was switched to green by the last release.
    const r = cluster(
      {
        'flight-delay-api-blue': { image: NEW.replace('b'.repeat(64), 'c'.repeat(64)), replicas: 3 },
        'flight-delay-api-green': { image: OLD, replicas: 3 },
      },
      'green',
    );
    const out = await runCli(
      [
        '--strategy',
        'blue-green',
        '--image',
        NEW,
        '--overlay',
        'blue-green',
        '--base-url',
        'http://preview',
        ...SETTINGS,
      ],
      r,
    );
    assert.equal(out.code, 0, JSON.stringify(out.result));
    const ms = applied(r);
    assert.equal(imageOf(ms, 'flight-delay-api-blue'), NEW);
    assert.equal(imageOf(ms, 'flight-delay-api-green'), OLD);
    const svc = ms.find((m) => m.kind === 'Service' && m.metadata.name === 'flight-delay-api')!;
    assert.equal(svc.spec?.selector?.track, 'green', 'apply does not switch traffic back to what git last said');
  },
);

test(
  'blue-green first install: no Service yet → every track starts on the release, then the idle one is smoke-tested',
  { skip },
  async () => {
    const r = cluster();
    r.kubectlRules.unshift([
      /get service flight-delay-api -o jsonpath/,
      { code: 1, stdout: '', stderr: 'Error from server (NotFound): services "flight-delay-api" not found' },
    ]);
    let reads = 0;
    const original = r.kubectl.bind(r);
    r.kubectl = async (args, stdin) =>
      args.includes('jsonpath={.spec.selector.track}') && ++reads > 1
        ? { code: 0, stdout: 'blue', stderr: '' }
        : original(args, stdin);
    const out = await runCli(
      [
        '--strategy',
        'blue-green',
        '--image',
        NEW,
        '--overlay',
        'blue-green',
        '--base-url',
        'http://preview',
        ...SETTINGS,
      ],
      r,
    );
    assert.equal(out.code, 0, JSON.stringify(out.result));
    const first = (JSON.parse(r.stdin[0]) as { items: Manifest[] }).items;
    assert.equal(imageOf(first, 'flight-delay-api-blue'), NEW);
    assert.equal(imageOf(first, 'flight-delay-api-green'), NEW);
  },
);

test('missing --project / namespace mismatch: nothing is applied, the reason says what to pass', { skip }, async () => {
  const r = cluster();
  const out = await runCli(['--strategy', 'rolling', '--image', NEW, '--overlay', 'production', '--bucket', 'b'], r);
  assert.equal(out.code, 1);
  assert.match(
    String((out.result as { reason?: string }).reason),
    /ServiceAccount\/flight-delay-api uses \$\{GCP_PROJECT\}: pass .*--project/,
  );
  assert.equal(r.stdin.length, 0);
  const wrong = cluster();
  const o2 = await runCli(
    ['--strategy', 'rolling', '--image', NEW, '--overlay', 'staging', '--namespace', 'flight-delay', ...SETTINGS],
    wrong,
  );
  assert.match(
    String((o2.result as { reason?: string }).reason),
    /overlay .*staging does not fit namespace flight-delay/,
  );
  assert.equal(wrong.stdin.length, 0);
});

test(
  '--render prints the trainer Job with its image, namespace and service account; refuses without the image',
  { skip },
  async () => {
    const trainer = NEW.replace('/api@', '/trainer@');
    const out = await runCli(
      ['--render', 'infra/k8s/jobs/trainer-job.yaml', '--image', `trainer=${trainer}`, ...SETTINGS],
      new FakeRunner(),
    );
    assert.equal(out.code, 0, JSON.stringify(out.result));
    assert.match(out.rendered!, new RegExp(`image: ${trainer.replace(/[.]/g, '\\.')}`));
    assert.match(out.rendered!, /namespace: flight-delay\n/);
    assert.match(out.rendered!, /serviceAccountName: flight-delay-trainer/);
    assert.match(out.rendered!, /gs:\/\/acme-ml-gitops-ml\/registry/);
    const bad = await runCli(['--render', 'infra/k8s/jobs/trainer-job.yaml', ...SETTINGS], new FakeRunner());
    assert.equal(bad.code, 1);
    assert.match(String((bad.result as { error?: string }).error), /needs image `trainer`: pass --image trainer=/);
  },
);
