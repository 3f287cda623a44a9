import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageName, liveWorkloads, namespaceProblems, render, type Manifest } from './render.ts';

const deployment = (name: string, replicas = 3): Manifest => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'ns' },
  spec: { replicas, template: { spec: { serviceAccountName: 'sa', containers: [{ name: 'api', image: 'api' }] } } },
});
const hpa = (target: string): Manifest => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: target, namespace: 'ns' },
  spec: { scaleTargetRef: { name: target } },
});
const NEW = 'r/api@sha256:' + 'b'.repeat(64);
const OLD = 'r/api@sha256:' + 'a'.repeat(64);
const imageOf = (ms: Manifest[], name: string) =>
  ms.find((m) => m.metadata.name === name)!.spec?.template?.spec?.containers[0].image;

test('imageName: <region>-docker.pkg.dev/<project>/<repo>/<name>', () => {
  assert.equal(
    imageName('api', { region: 'us-central1', project: 'p-1', repository: 'imgs' }),
    'us-central1-docker.pkg.dev/p-1/imgs/api',
  );
});

test('render: targets get the release; others keep what runs, or get the release when nothing runs yet', () => {
  const out = render([deployment('a'), deployment('b'), deployment('c')], {
    settings: {},
    images: { api: NEW },
    targets: ['a'],
    live: { a: { image: OLD }, b: { image: OLD } },
  });
  assert.deepEqual(
    ['a', 'b', 'c'].map((n) => imageOf(out, n)),
    [NEW, OLD, NEW],
  );
});

test('render: an autoscaled Deployment keeps its live replica count unless it was scaled to 0; others take the manifest', () => {
  const ms = [deployment('a'), hpa('a'), deployment('b'), hpa('b'), deployment('c')];
  const out = render(ms, {
    settings: {},
    images: { api: NEW },
    live: { a: { replicas: 9 }, b: { replicas: 0 }, c: { replicas: 5 } },
  });
  const replicas = (n: string) => out.find((m) => m.kind === 'Deployment' && m.metadata.name === n)!.spec?.replicas;
  assert.deepEqual([replicas('a'), replicas('b'), replicas('c')], [9, 3, 3]);
});

test('render: settings filled in every string, inputs untouched, every missing value named', () => {
  const cm: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cfg', namespace: 'ns' },
    data: { url: 'gs://${GCS_BUCKET}/registry', sa: 'x@${GCP_PROJECT}.iam', shell: '${HOME}' },
  };
  const [out] = render([cm], { settings: { GCS_BUCKET: 'bkt', GCP_PROJECT: 'proj' }, images: {} });
  assert.deepEqual(out.data, { url: 'gs://bkt/registry', sa: 'x@proj.iam', shell: '${HOME}' });
  assert.equal((cm.data as { url: string }).url, 'gs://${GCS_BUCKET}/registry', 'the input is not mutated');
  assert.throws(
    () => render([cm, deployment('a')], { settings: { GCS_BUCKET: 'bkt' }, images: {} }),
    (e: Error) =>
      /ConfigMap\/cfg uses \$\{GCP_PROJECT\}: pass .*--project/.test(e.message) &&
      /Deployment\/a container api needs image `api`/.test(e.message),
  );
});

test('render: blue-green keeps the live selector track', () => {
  const svc: Manifest = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'app', namespace: 'ns' },
    spec: { selector: { app: 'x', track: 'blue' } },
  };
  const [out] = render([svc], { settings: {}, images: {}, keepServiceTrack: { service: 'app', track: 'green' } });
  assert.equal(out.spec?.selector?.track, 'green');
});

test('liveWorkloads reads the named container; namespaceProblems finds objects outside the rendered namespaces', () => {
  const json = JSON.stringify({
    items: [
      {
        metadata: { name: 'a' },
        spec: {
          replicas: 4,
          template: {
            spec: {
              containers: [
                { name: 'side', image: 's' },
                { name: 'api', image: OLD },
              ],
            },
          },
        },
      },
    ],
  });
  assert.deepEqual(liveWorkloads(json, 'api'), { a: { image: OLD, replicas: 4 } });
  const ns: Manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } };
  assert.deepEqual(namespaceProblems([ns, deployment('a')]), []);
  assert.deepEqual(namespaceProblems([deployment('a')]), [
    'Deployment/a is in namespace ns, which this render does not create',
  ]);
  const loose = deployment('b');
  delete loose.metadata.namespace;
  assert.deepEqual(namespaceProblems([ns, loose]), ['Deployment/b has no namespace']);
});
