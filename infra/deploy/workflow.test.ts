/**
 * The deploy path read across files: one image name from the stack's outputs to CI's push, the
 * manifests, the deploy tool and the READMEs; the deploy job's own command line run through the
 * deploy tool; no env in the deploy workflows that nothing reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { defaultConfig, parseConfig } from '../cdktf/config.ts';
import { GitopsMlStack } from '../cdktf/stack.ts';
import { runCli } from './cli.ts';
import { FakeRunner } from './testing/fake-runner.ts';
import { imageName, podSpecs, type Manifest } from './render.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

/** cdktf's test app makes a directory of its own under the OS temporary directory unless given one. */
const CDKTF_OUTDIR = await tempDir('cdktf-test-');

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
interface Step {
  name?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
const workflow = (f: string) => parse(read(`.github/workflows/${f}`)) as Workflow;

const CONFIG = parseConfig({
  ...defaultConfig('acme-ml-prod', 'europe-west1'),
  githubRepository: 'acme/gitops-ml',
  artifactRepository: 'ml-images',
});
const tf = JSON.parse(Testing.synth(new GitopsMlStack(Testing.app({ outdir: CDKTF_OUTDIR }), 'test', CONFIG))) as Json;

/** An output's value with references to this stack's own resources resolved from the synthesized JSON. */
function output(name: string): string {
  const value = String(tf.output[name].value);
  return value.replace(/\$\{(google_[a-z_]+)\.([\w-]+)\.(\w+)\}/g, (whole, type: string, id: string, attr: string) => {
    const v = tf.resource?.[type]?.[id]?.[attr];
    return typeof v === 'string' ? v : whole;
  });
}

/** `vars.X` → the stack output named after it (the README's `gh variable set` loop), as the workflows' env would read it. */
function withVars(env: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => {
      const m = /^\$\{\{\s*vars\.([A-Z_]+)\s*\}\}$/.exec(v);
      return [k, m ? output(m[1].toLowerCase()) : v];
    }),
  );
}

/** The value a bash script assigns to `image=` in the step, with the given environment. */
function pushedImage(run: string, env: Record<string, string>): string {
  const line = /^\s*image="([^"]+)"/m.exec(run)?.[1];
  assert.ok(line, 'the push step assigns image="…"');
  const r = spawnSync('bash', ['-c', `printf '%s' "${line}"`], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
  });
  return r.stdout;
}

test('one image name: stack output = deploy tool = what deploy-api.yml and trainer-image.yml push', () => {
  const at = { region: 'europe-west1', project: 'acme-ml-prod', repository: 'ml-images' };
  assert.equal(output('api_image'), 'europe-west1-docker.pkg.dev/acme-ml-prod/ml-images/api');
  assert.equal(output('api_image'), imageName('api', at));
  assert.equal(output('trainer_image'), imageName('trainer', at));
  assert.equal(output('image_repository_url'), 'europe-west1-docker.pkg.dev/acme-ml-prod/ml-images');
  for (const [file, kind] of [
    ['deploy-api.yml', 'api'],
    ['trainer-image.yml', 'trainer'],
  ] as const) {
    const w = workflow(file);
    const step = Object.values(w.jobs)
      .flatMap((j) => j.steps)
      .find((s) => s.run && /docker push/.test(s.run));
    assert.ok(step, `${file} has a push step`);
    assert.equal(
      pushedImage(step.run!, withVars(w.env)),
      output(`${kind}_image`),
      `${file} pushes the stack's ${kind}_image`,
    );
  }
});

const THIRD_PARTY_IMAGE = /^gcr\.io\/google\.com\/cloudsdktool\/|^docker\.io\/library\/redis:7\.\d+\.\d+-alpine$/;

test('the manifests name images only by the placeholders the deploy tool fills; no registry path, tag or PROJECT_ID in git', () => {
  const files = spawnSync(
    'git',
    ['ls-files', 'infra/k8s', 'README.md', 'docs', 'infra/README.md', '.github/README.md'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .stdout.split('\n')
    .filter(Boolean);
  for (const f of files) {
    const text = read(f);
    assert.doesNotMatch(
      text,
      /gitops-ml\/flight-delay-api|flight-delay-api:v\d/,
      `${f} names an image CI never pushes`,
    );
    if (f.startsWith('infra/k8s/') && /\.ya?ml$/.test(f)) {
      assert.doesNotMatch(
        text.replace(/#.*$/gm, ''),
        /PROJECT_ID|docker\.pkg\.dev/,
        `${f}: use \${GCP_PROJECT} / \${GCS_BUCKET} and the image names api / trainer`,
      );
      for (const doc of text
        .split(/^---$/m)
        .map((d) => parse(d) as Manifest | null)
        .filter((d): d is Manifest => !!d?.kind)) {
        for (const spec of podSpecs(doc))
          for (const c of spec.containers) {
            // Third-party images by their public name: Google's Cloud SDK (batch) and the feedback
            // dedupe store's Redis (components/feedback-dedupe), a release pinned to its patch level.
            if (c.image !== undefined && !THIRD_PARTY_IMAGE.test(c.image))
              assert.ok(['api', 'trainer'].includes(c.image), `${f} ${doc.kind}: image ${c.image}`);
          }
      }
    }
  }
  assert.match(read('infra/README.md'), /<region>-docker\.pkg\.dev\/<project>\/<repo>\/api/);
});

/** The deploy job's env, with each `${{ vars.X || 'default' }}` at its default and `${{ vars.X }}` empty. */
function jobEnv(env: Record<string, string>, overrides: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const dflt = /\|\|\s*'([^']*)'\s*\}\}$/.exec(v)?.[1];
    out[k] = dflt ?? (/\$\{\{/.test(v) ? '' : v);
  }
  return { ...out, ...overrides };
}

test("deploy-api.yml: the deploy step's own command line drives the deploy tool (overlay, namespace, APP, CONTAINER, ROLLOUT_TIMEOUT)", async (t) => {
  if (spawnSync('kubectl', ['version', '--client']).error) return t.skip('kubectl not available');
  const job = workflow('deploy-api.yml').jobs.deploy;
  const step = job.steps.find((s) => s.run?.includes('npm run --silent deploy'))!;
  const command = step
    .run!.replace(/\\\n\s*/g, ' ')
    .split('\n')
    .find((l) => l.includes('npm run --silent deploy'))!
    .split('|')[0];
  const prelude = step
    .run!.split('\n')
    .filter((l) => /^\s*(if|overlay=)/.test(l))
    .join('\n');
  const digest = 'europe-west1-docker.pkg.dev/acme-ml-prod/ml-images/api@sha256:' + 'e'.repeat(64);
  const args = (overrides: Record<string, string>) => {
    const env = jobEnv(
      { ...job.env, ...step.env },
      { IMAGE: digest, PROJECT: 'acme-ml-prod', GCS_BUCKET: 'acme-ml-prod-gitops-ml', ...overrides },
    );
    const script = `${prelude}\nset -- ${command.replace(/^\s*npm run --silent deploy --/, '')}\nprintf '%s\\0' "$@"`;
    const r = spawnSync('bash', ['-c', script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\0').slice(0, -1);
  };

  const r = new FakeRunner();
  r.realKustomize = true;
  const out = await runCli(args({}), r);
  assert.equal(out.code, 0, JSON.stringify(out.result));
  assert.ok(
    r.calls.includes(`kubectl -n flight-delay set image deployment/flight-delay-api api=${digest}`),
    r.calls.join('\n'),
  );
  assert.ok(
    r.calls.includes('kubectl -n flight-delay rollout status deployment/flight-delay-api --timeout=5m'),
    'ROLLOUT_TIMEOUT reaches rollout status',
  );
  const applied = JSON.parse(r.stdin[0]) as { items: Manifest[] };
  assert.equal(applied.items[0].kind, 'Namespace');
  assert.match(JSON.stringify(applied), /api-runtime@acme-ml-prod\.iam/);

  // vars.K8S_DEPLOYMENT and the container name are not decoration: they name what is rolled out.
  const other = new FakeRunner();
  other.realKustomize = true;
  await runCli(args({ APP: 'my-api', CONTAINER: 'web', ROLLOUT_TIMEOUT: '9m', STRATEGY: 'rolling' }), other);
  assert.ok(
    other.calls.includes(`kubectl -n flight-delay set image deployment/my-api web=${digest}`),
    other.calls.join('\n'),
  );
  assert.ok(other.calls.includes('kubectl -n flight-delay rollout status deployment/my-api --timeout=9m'));

  // canary: its overlay by default, the no-data policy passed through
  const c = new FakeRunner();
  c.realKustomize = true;
  c.promAnswers = () => null;
  const canary = await runCli(
    args({ STRATEGY: 'canary', CANARY_OBSERVE_SECONDS: '60', CANARY_ON_NO_DATA: 'rollback' }),
    c,
  );
  assert.match(String((canary.result as { reason?: string }).reason), /no canary data/);
  assert.ok(
    (JSON.parse(c.stdin[0]) as { items: Manifest[] }).items.some((m) => m.metadata.name === 'flight-delay-api-canary'),
  );
});

test('deploy workflows set no env that nothing reads', () => {
  const cli = read('infra/deploy/cli.ts');
  for (const file of ['deploy-api.yml', 'trainer-image.yml']) {
    const w = workflow(file);
    const scripts = Object.values(w.jobs)
      .flatMap((j) => j.steps.map((s) => `${s.run ?? ''}\n${s.name ?? ''}\n${JSON.stringify(s.with ?? {})}`))
      .join('\n');
    const used = (k: string) =>
      new RegExp(`\\$\\{?${k}\\b|env\\.${k}\\b|\\$\\(\\([^)]*\\b${k}\\b`).test(scripts) ||
      cli.includes(`process.env.${k}`);
    const declared = [
      ...Object.keys(w.env ?? {}),
      ...Object.values(w.jobs).flatMap((j) => [
        ...Object.keys(j.env ?? {}),
        ...j.steps.flatMap((s) => Object.keys(s.env ?? {})),
      ]),
    ];
    for (const k of declared) {
      if (k === 'REGISTRY_URL') continue; // read by `npm run registry` (training/registry)
      assert.ok(used(k), `${file}: env ${k} is set but no step or the deploy tool reads it`);
    }
  }
});
