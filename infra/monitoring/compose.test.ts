import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { MONITORING_DIR } from './generate.ts';

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  user?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  command?: string[];
}
const load = async () =>
  parse(await readFile(join(MONITORING_DIR, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };

test('docker-compose.yml has the five services, pinned images and non-root users', async () => {
  const { services } = await load();
  assert.deepEqual(Object.keys(services).sort(), ['alertmanager', 'api', 'grafana', 'prometheus', 'pushgateway']);
  for (const [name, s] of Object.entries(services)) {
    if (s.build) continue;
    assert.match(s.image ?? '', /^[\w./-]+:v?\d+\.\d+\.\d+$/, `${name}: image pinned to a version tag`);
  }
  for (const [name, s] of Object.entries(services))
    assert.ok(s.user && s.user !== 'root' && s.user !== '0', `${name} runs as a non-root user`);
});

test('the api service builds api/Dockerfile from the repository root and reads a mounted registry', async () => {
  const { api } = (await load()).services;
  const context = resolve(MONITORING_DIR, api.build!.context);
  assert.ok(existsSync(join(context, api.build!.dockerfile)), 'Dockerfile exists');
  assert.ok(existsSync(join(context, 'package.json')), 'context is the repository root');
  const mount = api.volumes!.map((v) => v.split(':')).find(([, target]) => target === api.environment!.REGISTRY_URL);
  assert.ok(mount, 'REGISTRY_URL points at a mounted directory');
});

test('every bind-mounted path exists in the repository, and named volumes are declared', async () => {
  const { services, volumes } = await load();
  for (const [name, s] of Object.entries(services)) {
    for (const v of s.volumes ?? []) {
      const [source] = v.split(':');
      if (!(source.startsWith('.') || source.startsWith('/'))) {
        assert.ok(source in volumes, `${name}: named volume ${source} is declared`);
        continue;
      }
      const path = resolve(MONITORING_DIR, source);
      // The model registry is not in git: `npm start` creates it (the README says to run it first).
      if (path === resolve(MONITORING_DIR, '../../registry')) continue;
      assert.ok(existsSync(path), `${name}: ${source} exists`);
    }
  }
});

test('every published port binds to 127.0.0.1', async () => {
  const { services } = await load();
  let n = 0;
  for (const [name, s] of Object.entries(services)) {
    for (const p of s.ports ?? []) {
      n++;
      assert.match(p, /^127\.0\.0\.1:\d+:\d+$/, `${name}: ${p}`);
    }
  }
  assert.equal(n, 5);
});

test('Prometheus loads the compose config and rules; Alertmanager the generated routing; Grafana the provisioning and dashboards', async () => {
  const { services } = await load();
  const mounts = (s: Service) => new Map((s.volumes ?? []).map((v) => v.split(':')).map(([src, dst]) => [dst, src]));
  const prom = mounts(services.prometheus);
  assert.equal(prom.get('/etc/prometheus/prometheus.yml'), './prometheus/prometheus.compose.yml');
  assert.equal(prom.get('/etc/prometheus/rules.yml'), './prometheus/rules.yml');
  const compose = parse(await readFile(join(MONITORING_DIR, 'prometheus/prometheus.compose.yml'), 'utf8'));
  assert.deepEqual(compose.rule_files, ['rules.yml']);
  const targets = compose.scrape_configs
    .flatMap((c: { static_configs: { targets: string[] }[] }) => c.static_configs.flatMap((x) => x.targets))
    .sort();
  assert.deepEqual(targets, ['api:8080', 'pushgateway:9091']);
  assert.equal(
    mounts(services.alertmanager).get('/etc/alertmanager/alertmanager.yml'),
    './alertmanager/alertmanager.yml',
  );
  const graf = mounts(services.grafana);
  const provider = parse(
    await readFile(join(MONITORING_DIR, 'grafana/provisioning/dashboards/dashboards.yml'), 'utf8'),
  );
  assert.equal(graf.get(provider.providers[0].options.path), './grafana/dashboards');
  assert.equal(graf.get('/etc/grafana/provisioning/datasources'), './grafana/provisioning/datasources');
  const ds = parse(await readFile(join(MONITORING_DIR, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'));
  assert.equal(ds.datasources[0].url, 'http://prometheus:9090');
});
