/**
 * One model name: register.model_name in params.yaml. Renamed in a copy of the repository, it is
 * what dvc.yaml's `artifacts:` entry is generated from (the up-to-date check fails until
 * `npm run pipeline:gen`), what the registry CLI and the API default to, and what the up-front
 * check compares dvc.yaml with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { memoryLogger } from '../core/platform/log.ts';
import { openRegistry } from '../core/registry/index.ts';
import { makeBundle } from '../core/registry/testing/helpers.ts';
import { main as gen } from '../training/pipeline/gen-cli.ts';
import { main as registryCli } from '../training/registry/cli.ts';
import { preflightProblems } from '../training/preflight.ts';
import { loadConfig } from '../api/config.ts';
import { paramsDefaults } from '../api/server.ts';
import { tempRepo } from './testing/training/fixtures.ts';
import { MODEL_CONFIGMAP } from '../training/pipeline/manifest-model-name.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

test("renaming register.model_name in params.yaml renames dvc.yaml's artifact (after pipeline:gen) and the registry CLI's and the API's default", async () => {
  const root = await tempRepo();
  try {
    for (const dir of ['core', 'training'])
      await cp(join(REPO, dir), join(root, dir), { recursive: true, filter: (src) => !src.includes('node_modules') });
    for (const file of ['params.yaml', 'dvc.yaml', MODEL_CONFIGMAP])
      await cp(join(REPO, file), join(root, file), { recursive: true });
    const log = memoryLogger();
    let out = '';
    const io = { cwd: root, log, write: (t: string) => void (out += t), stderr: (t: string) => void (out += t) };
    assert.equal(await gen(['--check'], io), 0, out);

    const params = await readFile(join(root, 'params.yaml'), 'utf8');
    assert.match(params, /\n {2}model_name: flight-delay\n/);
    await writeFile(
      join(root, 'params.yaml'),
      params.replace(/\n {2}model_name: flight-delay\n/, '\n  model_name: weather-model\n'),
    );

    // Until regenerated, dvc.yaml and the manifests are out of date and the up-front check names the fix.
    out = '';
    assert.equal(await gen(['--check'], io), 1);
    assert.match(out, /configmap\.yaml: MODEL_NAME differs from params\.yaml's register\.model_name \(weather-model\)/);
    assert.match(
      out,
      /dvc\.yaml differs from what training\/contracts\/ and params\.yaml generate .*register\.model_name/,
    );
    const before = await preflightProblems({ repoRoot: root, against: 'none', log });
    assert.deepEqual(
      before.problems.map((p) => [p.key, p.value]),
      [['register.model_name', 'weather-model']],
    );
    assert.match(
      before.problems[0].message,
      /dvc\.yaml names the model artifact flight-delay .*run `npm run pipeline:gen` to name it weather-model/,
    );

    assert.equal(await gen([], io), 0);
    // The manifests follow: the ConfigMap the API Deployment and the batch CronJobs read.
    const configMap = await readFile(join(root, MODEL_CONFIGMAP), 'utf8');
    assert.equal((parse(configMap) as { data: Record<string, string> }).data.MODEL_NAME, 'weather-model');
    assert.match(configMap, /# One process per pod/, 'comments kept');
    const artifacts = (
      parse(await readFile(join(root, 'dvc.yaml'), 'utf8')) as { artifacts: Record<string, { path: string }> }
    ).artifacts;
    assert.deepEqual(Object.keys(artifacts), ['weather-model']);
    assert.equal(artifacts['weather-model'].path, 'artifacts/model');
    assert.equal(await gen(['--check'], io), 0);
    assert.deepEqual((await preflightProblems({ repoRoot: root, against: 'none', log })).problems, []);

    // The registry CLI lists the renamed model by default, not the other one the registry holds.
    const registry = await openRegistry('registry', { baseDir: root, log });
    const bundle = await makeBundle(join(root, 'bundle'), { 'model.json': '{}', 'weights.bin': 'w' });
    for (const name of ['flight-delay', 'weather-model']) await registry.register(name, bundle, {}, { source: 'test' });
    out = '';
    assert.equal(await registryCli(['list'], { ...io, env: {} }), 0, out);
    assert.match(out, /^weather-model in /);
    out = '';
    assert.equal(await registryCli(['list'], { ...io, env: { MODEL_NAME: 'flight-delay' } }), 0, out);
    assert.match(out, /^flight-delay in /, '$MODEL_NAME still wins');

    // The API serves the renamed model unless MODEL_NAME says otherwise.
    assert.equal(loadConfig({}, await paramsDefaults(root)).modelName, 'weather-model');
    assert.equal(loadConfig({ MODEL_NAME: 'x' }, await paramsDefaults(root)).modelName, 'x');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
