// infra/config.yaml is the stack's one source of settings: the committed file is complete and
// valid, an environment variable that disagrees with it is refused with a fix-it message, and
// CI's synth (its env parsed from infra.yml) produces exactly the Terraform JSON a local synth
// with no environment produces, so a local apply and CI's plan agree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { Testing } from 'cdktf';
import { CHECKED_ENV, CONFIG_FILE, loadConfig, readConfigFile, stackConfigSchema, type StackConfig } from './config.ts';
import { GitopsMlStack, STACK_NAME } from './stack.ts';
import { tempDir } from '../../harness/testing/lifecycle.ts';

/** cdktf's test app makes a directory of its own under the OS temporary directory unless given one. */
const CDKTF_OUTDIR = await tempDir('cdktf-test-');

const exec = promisify(execFile);
const INFRA = join(import.meta.dirname, '..');
const WORKFLOW = join(INFRA, '..', '.github', 'workflows', 'infra.yml');
const file = readConfigFile();

/** A value of `entry.env` that the file does not hold (flipped, incremented, or renamed). */
function differing(entry: (typeof CHECKED_ENV)[number], config: StackConfig): string {
  const value = entry.of(config);
  if (typeof value === 'boolean') return String(!value);
  if (typeof value === 'number') return String(value + 1);
  if (Array.isArray(value)) return value.includes('10.0.0.0/8') ? '192.168.0.0/16' : '10.0.0.0/8';
  if (entry.env === 'GKE_MODE') return value === 'autopilot' ? 'standard' : 'autopilot';
  assert.equal(typeof value, 'string', entry.env);
  return value ? `${value as string}9` : '42';
}

/** `node --import tsx cdktf/main.ts` from infra/, as infra.yml and `npm run infra:synth` run it, with only `env`. */
async function synth(env: Record<string, string>) {
  const out = mkdtempSync(join(tmpdir(), 'cdktf-out-'));
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CDKTF_OUTDIR: out };
  try {
    const { stderr } = await exec(process.execPath, ['--import', 'tsx', 'cdktf/main.ts'], {
      cwd: INFRA,
      env: { ...base, ...env },
    });
    const json = join(out, 'stacks', STACK_NAME, 'cdk.tf.json');
    return { code: 0, stderr, json: existsSync(json) ? readFileSync(json, 'utf8') : undefined };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr, json: undefined };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

interface Step {
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  env?: Record<string, string>;
  steps?: Step[];
}

/**
 * The environment each synth step of infra.yml gets: workflow, job and step `env`, with
 * `${{ vars.X }}` set as docs/deploy.md "First real run" sets them (the stack's output x, from this file),
 * and what GitHub sets itself for the repository the file names.
 */
function ciSynthEnvs(config: StackConfig): Array<{ job: string; env: Record<string, string> }> {
  const workflow = parse(readFileSync(WORKFLOW, 'utf8')) as { env?: Record<string, string>; jobs: Record<string, Job> };
  const app = Testing.app({ outdir: CDKTF_OUTDIR });
  const outputs = JSON.parse(Testing.synth(new GitopsMlStack(app, STACK_NAME, config))).output as Record<
    string,
    { value: string }
  >;
  const resolve = (name: string, value: string) =>
    String(value).replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
      const v = /^vars\.([A-Z0-9_]+)$/.exec(expr);
      const output = v && outputs[v[1].toLowerCase()]?.value;
      assert.ok(
        output !== undefined && output !== null && !String(output).includes('${'),
        `${name}: \${{ ${expr} }} is not a value infra/config.yaml determines (a stack output known before apply)`,
      );
      return String(output);
    });
  const found = Object.entries(workflow.jobs).flatMap(([job, j]) =>
    (j.steps ?? [])
      .filter((s) => s.run?.includes('cdktf/main.ts'))
      .map((s) => {
        const declared = { ...workflow.env, ...j.env, ...s.env };
        const env = Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, resolve(k, v)]));
        return {
          job,
          env: {
            ...env,
            GITHUB_ACTIONS: 'true',
            GITHUB_REPOSITORY: config.githubRepository,
            GITHUB_REPOSITORY_ID: config.githubRepositoryId,
          },
          declared: Object.keys(s.env ?? {}),
        };
      }),
  );
  assert.deepEqual(
    found.map((f) => f.job),
    ['plan', 'apply'],
    'infra.yml synthesizes in its plan and apply jobs',
  );
  for (const f of found)
    for (const name of f.declared)
      assert.ok(
        CHECKED_ENV.some((c) => c.env === name),
        `infra.yml ${f.job}: the synth step sets ${name}, which is not a variable synth checks against infra/config.yaml`,
      );
  return found;
}

describe('infra/config.yaml: the one source of the stack settings', () => {
  it('is complete (every field written out, nothing filled from code) and valid', () => {
    const raw = parse(readFileSync(CONFIG_FILE, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw).sort(), Object.keys(stackConfigSchema.shape).sort());
    assert.deepEqual(readConfigFile(), raw);
  });

  it('refuses unknown fields (a typo would otherwise be ignored)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'infra-config-'));
    try {
      const typo = join(dir, 'config.yaml');
      writeFileSync(typo, `${readFileSync(CONFIG_FILE, 'utf8')}\nclustermode: standard\n`);
      assert.throws(() => readConfigFile(typo), /clustermode/);
      writeFileSync(typo, readFileSync(CONFIG_FILE, 'utf8').replace(/^clusterMode: .*$/m, 'clusterMode: serverless'));
      assert.throws(() => readConfigFile(typo), /clusterMode/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with no environment, and with every checked variable equal to the file, is the file', () => {
    assert.deepEqual(loadConfig({}), file);
    const same = Object.fromEntries(
      CHECKED_ENV.map((c) => {
        const v = c.of(file);
        return [c.env, Array.isArray(v) ? v.join(',') : String(v)];
      }),
    );
    assert.deepEqual(loadConfig(same), file);
    assert.deepEqual(
      loadConfig({ GKE_MODE: '', GCP_PROJECT: '' }),
      file,
      'empty (an unset repository variable) is unset',
    );
  });

  for (const entry of CHECKED_ENV) {
    it(`refuses ${entry.env} when it differs from the file, naming both and the fix`, () => {
      const value = differing(entry, file);
      assert.throws(
        () => loadConfig({ [entry.env]: value }),
        (e: Error) => {
          assert.ok(e.message.includes(`${entry.env}=${value} but infra/config.yaml says ${entry.field}: `), e.message);
          assert.match(e.message, /Change infra\/config\.yaml and commit it, so CI plans the same/);
          return true;
        },
      );
    });
  }

  it('synth (main.ts) fails with the message when an override differs, and writes no stack', async () => {
    const mode = file.clusterMode === 'autopilot' ? 'standard' : 'autopilot';
    const r = await synth({ GKE_MODE: mode });
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      new RegExp(`GKE_MODE=${mode} but infra/config.yaml says clusterMode: "${file.clusterMode}"`),
    );
    assert.match(r.stderr, /so CI plans the same/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
    assert.equal(r.json, undefined);
  });

  it("CI's synth (infra.yml's env + the committed file) writes exactly the JSON of a local synth with no environment", async () => {
    const ci = ciSynthEnvs(file);
    // One synth per distinct environment (plan and apply get the same one today).
    const distinct = [...new Set(ci.map((c) => JSON.stringify(c.env)))];
    const [local, ...inCi] = await Promise.all([synth({}), ...distinct.map((env) => synth(JSON.parse(env)))]);
    assert.equal(local.code, 0, local.stderr);
    assert.ok(local.json && JSON.parse(local.json).resource, 'local synth wrote the stack');
    // The committed file leaves the repository id empty: the synth says what that trusts.
    assert.match(
      local.stderr,
      /warning: githubRepositoryId is empty, so the workload identity provider trusts the name .* alone/,
    );
    for (const c of ci) {
      const r = inCi[distinct.indexOf(JSON.stringify(c.env))];
      assert.equal(r.code, 0, `${c.job}: ${r.stderr}`);
      assert.equal(r.json, local.json, `${c.job}: CI would plan something else than a local synth`);
    }
  });
});
