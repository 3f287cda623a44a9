/**
 * Renders every kustomize overlay of infra/k8s with the real `kubectl kustomize` (offline), checks
 * every object against the Kubernetes OpenAPI schemas (kubernetes-models' validators; the two
 * monitoring CRDs get a structural check), and asserts what the manifests promise: hardened pod
 * templates, probes, resources, grace period, wiring between objects, and the blue-green, canary,
 * staging/production and pre-production-twin shapes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { namespaceProblems, podSpecs, render as fillPlaceholders } from '../deploy/render.ts';
import { readBody, serve, tempDir } from '../../harness/testing/lifecycle.ts';
import {
  K8S_DIR as here,
  OVERLAYS,
  kubectlMissing as missing,
  rendered,
  type Manifest,
  type Obj,
} from './kustomize.ts';

const APP = 'app.kubernetes.io/name';

const id = (m: Manifest) => `${m.kind}/${m.metadata.name}`;
const ofKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
const named = (ms: Manifest[], kind: string, name: string) => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `${kind}/${name} is rendered (have: ${ms.map(id).join(', ')})`);
  return m;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
/** The feedback dedupe store's Deployment (components/feedback-dedupe) is not an API Deployment. */
const DEDUPE = 'flight-delay-feedback-dedupe';
const serving = (m: Manifest) => m.metadata.labels?.[APP] !== DEDUPE;

/** Kubernetes schema validation: the model class for apiVersion/kind, then `.validate()`. */
async function validateK8s(m: Manifest): Promise<void> {
  const [group, version] = m.apiVersion.includes('/') ? m.apiVersion.split('/') : ['', m.apiVersion];
  const modulePath = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const mod = (await import(modulePath)) as Record<string, new (data: Obj) => { validate(): void }>;
  const Model = mod[m.kind];
  assert.ok(Model, `kubernetes-models has no ${m.kind} in ${m.apiVersion}`);
  try {
    new Model(m).validate();
  } catch (e) {
    assert.fail(`${id(m)} is not a valid ${m.apiVersion} ${m.kind}: ${(e as Error).message}`);
  }
}

/** No models for the monitoring CRDs: check the shape their controllers need. */
function validateCrd(m: Manifest): void {
  assert.ok(m.metadata.name, 'metadata.name');
  const sel = m.spec?.selector?.matchLabels;
  assert.ok(sel && Object.keys(sel).length > 0, `${id(m)}: spec.selector.matchLabels`);
  assert.ok(Array.isArray(m.spec.endpoints) && m.spec.endpoints.length > 0, `${id(m)}: spec.endpoints`);
  for (const ep of m.spec.endpoints) {
    assert.equal(ep.port, 'http', `${id(m)}: scrapes the named port http`);
    assert.equal(ep.path, '/metrics');
    assert.match(String(ep.interval), /^\d+[smh]$/, `${id(m)}: interval is a duration`);
  }
  if (m.kind === 'PodMonitoring')
    for (const t of m.spec.targetLabels?.fromPod ?? []) assert.equal(typeof t.from, 'string');
  if (m.kind === 'ServiceMonitor') assert.ok(Array.isArray(m.spec.podTargetLabels ?? []));
}
const CRDS: Record<string, string> = {
  PodMonitoring: 'monitoring.googleapis.com/v1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
};

type PodTemplate = { owner: Manifest; spec: Obj; labels: Record<string, string> };
function podTemplates(ms: Manifest[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const m of ms) {
    if (m.kind === 'Deployment')
      out.push({ owner: m, spec: m.spec.template.spec, labels: m.spec.template.metadata?.labels ?? {} });
    if (m.kind === 'CronJob')
      out.push({
        owner: m,
        spec: m.spec.jobTemplate.spec.template.spec,
        labels: m.spec.jobTemplate.spec.template.metadata?.labels ?? {},
      });
  }
  return out;
}

function assertHardened(t: PodTemplate): void {
  const who = id(t.owner);
  const pod = t.spec.securityContext ?? {};
  assert.equal(pod.runAsNonRoot, true, `${who}: pod runAsNonRoot`);
  assert.equal(pod.runAsUser, 1000, `${who}: pod runAsUser 1000`);
  assert.equal(pod.seccompProfile?.type, 'RuntimeDefault', `${who}: pod seccomp RuntimeDefault`);
  assert.equal(t.spec.hostNetwork ?? false, false, `${who}: no host network`);
  assert.equal(t.spec.automountServiceAccountToken, false, `${who}: no Kubernetes API token mounted`);
  const containers: Obj[] = [...(t.spec.initContainers ?? []), ...t.spec.containers];
  const volumes = new Map<string, Obj>((t.spec.volumes ?? []).map((v: Obj) => [v.name, v]));
  for (const c of containers) {
    const where = `${who} container ${c.name}`;
    const sc = c.securityContext ?? {};
    assert.equal(sc.runAsNonRoot ?? pod.runAsNonRoot, true, `${where}: runAsNonRoot`);
    assert.notEqual(sc.runAsUser ?? pod.runAsUser, 0, `${where}: not uid 0`);
    assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
    assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation false`);
    assert.notEqual(sc.privileged, true, `${where}: not privileged`);
    assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: drops ALL capabilities`);
    assert.deepEqual(sc.capabilities?.add ?? [], [], `${where}: adds no capability`);
    for (const k of ['cpu', 'memory']) {
      assert.ok(c.resources?.requests?.[k], `${where}: requests.${k}`);
      assert.ok(c.resources?.limits?.[k], `${where}: limits.${k}`);
    }
    // A read-only root needs somewhere to write: every mount is a declared volume, /tmp included.
    for (const vm of c.volumeMounts ?? []) assert.ok(volumes.has(vm.name), `${where}: volume ${vm.name} is declared`);
    assert.ok(
      (c.volumeMounts ?? []).some((vm: Obj) => vm.mountPath === '/tmp'),
      `${where}: writable /tmp`,
    );
    assert.ok(!/:latest$/.test(c.image), `${where}: no :latest image (${c.image})`);
  }
}

function assertServes(t: PodTemplate, configMaps: Manifest[]): void {
  const who = id(t.owner);
  const c = t.spec.containers.find((x: Obj) => x.name === 'api');
  assert.ok(c, `${who}: has the api container`);
  assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }], `${who}: port 8080 named http`);
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${who}: liveness /healthz`);
  assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${who}: readiness /readyz`);
  assert.ok(c.startupProbe?.httpGet?.path, `${who}: startupProbe`);
  for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) assert.equal(p.httpGet.port, 'http');
  assert.ok(
    c.startupProbe.periodSeconds * c.startupProbe.failureThreshold >= 120,
    `${who}: startup allows ≥ 2 min to boot`,
  );
  const mounts = new Map<string, string>(c.volumeMounts.map((m: Obj) => [m.mountPath, m.name]));
  const cacheVol = t.spec.volumes.find((v: Obj) => v.name === mounts.get('/app/.pipeline'));
  assert.ok(cacheVol?.emptyDir, `${who}: emptyDir at /app/.pipeline (bundle cache)`);
  // The image is the name the deploy tool fills with the pushed digest (infra/deploy/render.ts): no
  // registry path or tag in git that could revert pods to an image nobody pushed.
  assert.equal(c.image, 'api', `${who}: image \`api\`, set by the deploy tool on apply`);
  // Configuration from the ConfigMap, secrets by reference and optional.
  const cmName = c.envFrom?.find((e: Obj) => e.configMapRef)?.configMapRef.name;
  const cm = configMaps.find((m) => m.metadata.name === cmName);
  assert.ok(cm, `${who}: envFrom ConfigMap ${cmName} is rendered`);
  for (const k of ['REGISTRY_URL', 'MODEL_NAME', 'LOG_FORMAT']) assert.ok(cm.data[k], `${who}: ConfigMap sets ${k}`);
  assert.match(cm.data.REGISTRY_URL, /^gs:\/\//);
  assert.equal(cm.data.LOG_FORMAT, 'json');
  assert.equal(cm.data.HOST, '0.0.0.0', 'listens on all interfaces in the pod');
  const retrain = t.owner.metadata.name.endsWith('-preprod')
    ? []
    : ['GITHUB_TOKEN', 'GITHUB_REPOSITORY', 'RETRAIN_WEBHOOK_URL', 'RETRAIN_WEBHOOK_TOKEN'];
  for (const name of ['API_TOKENS', 'ADMIN_TOKEN', 'METRICS_TOKENS', ...retrain]) {
    const e = c.env.find((x: Obj) => x.name === name);
    assert.ok(e?.valueFrom?.secretKeyRef, `${who}: ${name} from a Secret`);
    assert.equal(e.valueFrom.secretKeyRef.optional, true, `${who}: ${name} optional`);
    assert.equal(e.value, undefined, `${who}: ${name} has no literal value`);
  }
  // SIGTERM → preStop sleep → SHUTDOWN_TIMEOUT_MS of draining must fit in the grace period.
  const preStop = Number(c.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
  const shutdown = Number(cm.data.SHUTDOWN_TIMEOUT_MS ?? 10_000) / 1000;
  assert.ok(
    t.spec.terminationGracePeriodSeconds >= preStop + shutdown + 5,
    `${who}: grace ${t.spec.terminationGracePeriodSeconds}s ≥ preStop ${preStop}s + shutdown ${shutdown}s + 5s`,
  );
  assert.ok((t.spec.topologySpreadConstraints ?? []).length > 0, `${who}: topologySpreadConstraints`);
  for (const tsc of t.spec.topologySpreadConstraints)
    assert.ok(matches(tsc.labelSelector.matchLabels, t.labels), `${who}: spread constraint selects its own pods`);
  const owner = t.owner;
  assert.ok(matches(owner.spec.selector.matchLabels, t.labels), `${who}: selector matches its template`);
}

if (missing) {
  test(`infra/k8s manifests: SKIPPED — ${missing}`, { skip: missing }, () => {});
} else {
  for (const overlay of OVERLAYS) {
    describe(`overlay ${overlay}`, () => {
      test('renders with kubectl kustomize', () => {
        const ms = rendered(`overlays/${overlay}`);
        assert.ok(ms.length > 5);
        const ids = ms.map((m) => `${m.kind}/${m.metadata.namespace}/${m.metadata.name}`);
        assert.equal(new Set(ids).size, ids.length, 'no duplicate objects');
        for (const m of ms) if (m.kind !== 'Namespace') assert.ok(m.metadata.namespace, `${id(m)} has a namespace`);
      });

      test('the render creates every namespace it uses, before anything in it', () => {
        const ms = rendered(`overlays/${overlay}`);
        assert.deepEqual(namespaceProblems(ms), []);
        assert.equal(ms[0].kind, 'Namespace', 'the Namespace comes first in the apply stream');
        assert.equal(ofKind(ms, 'Namespace').length, 1);
        assert.equal(ms[0].metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      });

      test('the deploy tool fills every placeholder (settings, image) and nothing else is left to substitute', () => {
        const out = fillPlaceholders(rendered(`overlays/${overlay}`), {
          settings: { GCP_PROJECT: 'acme-ml', GCS_BUCKET: 'acme-bucket' },
          images: { api: 'r/api@sha256:' + '0'.repeat(64) },
        });
        const text = JSON.stringify(out);
        assert.doesNotMatch(text, /PROJECT_ID|\$\{GCP_PROJECT\}|\$\{GCS_BUCKET\}/);
        for (const m of out)
          for (const spec of podSpecs(m))
            for (const c of spec.containers) assert.notEqual(c.image, 'api', `${id(m as Manifest)}: image filled`);
        assert.throws(
          () => fillPlaceholders(rendered(`overlays/${overlay}`), { settings: {}, images: {} }),
          /\$\{GCP_PROJECT\}.*--project[\s\S]*needs image `api`/,
        );
      });

      test('every object is valid against the Kubernetes schemas (CRDs: structural check)', async () => {
        for (const m of rendered(`overlays/${overlay}`)) {
          if (CRDS[m.kind]) {
            assert.equal(m.apiVersion, CRDS[m.kind]);
            validateCrd(m);
          } else await validateK8s(m);
        }
      });

      test('every pod template (Deployments and CronJobs) is hardened and has resources', () => {
        const ts = podTemplates(rendered(`overlays/${overlay}`));
        assert.ok(ts.some((t) => t.owner.kind === 'Deployment') && ts.some((t) => t.owner.kind === 'CronJob'));
        for (const t of ts) assertHardened(t);
      });

      test('every API Deployment: probes /healthz /readyz, port, cache, config, secrets, grace period', () => {
        const ms = rendered(`overlays/${overlay}`);
        for (const t of podTemplates(ms).filter((x) => x.owner.kind === 'Deployment' && serving(x.owner)))
          assertServes(t, ofKind(ms, 'ConfigMap'));
      });

      test('wiring: Service, ServiceAccount, HPA, PDB, CronJobs point at rendered objects', () => {
        const ms = rendered(`overlays/${overlay}`);
        const deployments = ofKind(ms, 'Deployment');
        const svc = named(ms, 'Service', 'flight-delay-api');
        assert.equal(svc.spec.type, 'ClusterIP');
        assert.deepEqual(
          svc.spec.ports.map((p: Obj) => [p.port, p.targetPort]),
          [[80, 'http']],
        );
        const sa = named(ms, 'ServiceAccount', 'flight-delay-api');
        assert.equal(
          sa.metadata.annotations?.['iam.gke.io/gcp-service-account'],
          'api-runtime@${GCP_PROJECT}.iam.gserviceaccount.com',
        );
        // The trainer Job (infra/k8s/jobs) runs in this namespace as flight-delay-trainer.
        const trainer = named(ms, 'ServiceAccount', 'flight-delay-trainer');
        assert.equal(
          trainer.metadata.annotations?.['iam.gke.io/gcp-service-account'],
          'trainer-runtime@${GCP_PROJECT}.iam.gserviceaccount.com',
        );
        for (const d of deployments) {
          const sName = d.spec.template.spec.serviceAccountName;
          assert.ok(
            ms.some((m) => m.kind === 'ServiceAccount' && m.metadata.name === sName),
            `${id(d)}: ServiceAccount ${sName} rendered`,
          );
        }
        const pdb = named(ms, 'PodDisruptionBudget', 'flight-delay-api');
        const served = deployments.filter((d) =>
          matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels),
        );
        assert.ok(
          served.length > 0 && !served.some((d) => d.metadata.name.endsWith('-preprod')),
          'PDB covers the serving pods, not the twin',
        );
        const hpas = ofKind(ms, 'HorizontalPodAutoscaler');
        assert.ok(hpas.length > 0);
        for (const h of hpas) {
          assert.equal(h.apiVersion, 'autoscaling/v2');
          const target = named(ms, 'Deployment', h.spec.scaleTargetRef.name);
          assert.ok(h.spec.minReplicas >= 1 && h.spec.maxReplicas > h.spec.minReplicas, `${id(h)} bounds`);
          assert.ok(
            !target.metadata.name.endsWith('-canary') && !target.metadata.name.endsWith('-preprod'),
            `${id(h)}: no autoscaler on canary or twin`,
          );
          // Only resource metrics (metrics-server, on every GKE cluster): a Pods/External metric needs
          // an adapter nobody installs here, and with one metric missing the HPA never scales down.
          assert.deepEqual(
            h.spec.metrics.map((x: Obj) => `${x.type}:${x.resource?.name}:${x.resource?.target?.type}`),
            ['Resource:cpu:Utilization'],
            `${id(h)} metrics`,
          );
          assert.equal(h.spec.metrics[0].resource.target.averageUtilization, 70);
        }
        // Every Service selects at least one Deployment's pods; each pod template is selected by ≤ 1 Service selector set.
        for (const s of ofKind(ms, 'Service')) {
          assert.ok(
            deployments.some((d) => matches(s.spec.selector, d.spec.template.metadata.labels)),
            `${id(s)} selects pods`,
          );
        }
        // Deployment selectors never overlap (each owns only its own pods).
        for (const a of deployments)
          for (const b of deployments) {
            if (a !== b)
              assert.ok(
                !matches(a.spec.selector.matchLabels, b.spec.template.metadata.labels),
                `${id(a)} does not select ${id(b)}'s pods`,
              );
          }
      });

      test('batch-score and its pre-production twin', () => {
        const ms = rendered(`overlays/${overlay}`);
        const prod = named(ms, 'CronJob', 'batch-score');
        const twin = named(ms, 'CronJob', 'batch-score-preprod');
        const env = (cj: Manifest) =>
          Object.fromEntries(
            cj.spec.jobTemplate.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]),
          );
        const [pe, te] = [env(prod), env(twin)];
        assert.equal(pe.TARGET_URL, 'http://flight-delay-api');
        assert.equal(te.TARGET_URL, 'http://flight-delay-api-preprod');
        assert.notEqual(pe.BATCH_OUTPUT_URL, te.BATCH_OUTPUT_URL, 'the twin writes to its own output');
        for (const cj of [prod, twin]) {
          assert.equal(cj.spec.concurrencyPolicy, 'Forbid');
          assert.equal(cj.spec.schedule.split(' ').length, 5);
          assert.equal(cj.spec.jobTemplate.spec.template.spec.restartPolicy, 'Never');
          const cms = cj.spec.jobTemplate.spec.template.spec.volumes
            .filter((v: Obj) => v.configMap)
            .map((v: Obj) => v.configMap.name);
          for (const n of cms)
            assert.ok(
              ms.some((m) => m.kind === 'ConfigMap' && m.metadata.name === n),
              `${id(cj)}: ConfigMap ${n} rendered`,
            );
        }
        const script = ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('batch-score-script'))!;
        assert.match(script.data['score.sh'], /\/readyz/, 'waits for readiness first');
        assert.match(script.data['score.sh'], /\/v1\/models\/\$MODEL_NAME:predict/, 'KServe V1 route');
        // The twin's target serves the registry's staging model; the production target does not.
        const stageOf = (svcName: string) => {
          const svc = named(ms, 'Service', svcName);
          const ds = ofKind(ms, 'Deployment').filter((d) =>
            matches(svc.spec.selector, d.spec.template.metadata.labels),
          );
          return new Set(
            ds.map(
              (d) =>
                d.spec.template.spec.containers[0].env.find((e: Obj) => e.name === 'MODEL_STAGE')?.value ??
                'production (ConfigMap)',
            ),
          );
        };
        assert.deepEqual([...stageOf('flight-delay-api-preprod')], ['staging']);
        assert.deepEqual([...stageOf('flight-delay-api')], ['production (ConfigMap)']);
        const cm = named(ms, 'ConfigMap', 'flight-delay-api-config');
        assert.equal(cm.data.MODEL_STAGE, 'production');
      });
    });
  }

  test('the trainer Job and the Indexed scoring Job run in a namespace the production overlay creates, as its service accounts', async () => {
    const { readFileSync } = await import('node:fs');
    const prod = rendered('overlays/production');
    for (const file of ['trainer-job.yaml', 'score-indexed-job.yaml']) {
      const job = parseAllDocuments(readFileSync(join(here, 'jobs', file), 'utf8'))[0].toJS() as Manifest;
      const ns = job.metadata.namespace;
      assert.ok(ns, `${file}: has a namespace`);
      assert.ok(
        prod.some((m) => m.kind === 'Namespace' && m.metadata.name === ns),
        `${file}: namespace ${ns} is rendered by overlays/production`,
      );
      const sa = job.spec.template.spec.serviceAccountName;
      assert.ok(
        prod.some((m) => m.kind === 'ServiceAccount' && m.metadata.name === sa && m.metadata.namespace === ns),
        `${file}: ServiceAccount ${ns}/${sa} is rendered`,
      );
      assert.equal(
        job.spec.template.spec.containers[0].image,
        'trainer',
        `${file}: image \`trainer\` (filled by npm run deploy -- --render)`,
      );
    }
  });

  test('the Managed Prometheus Rules (infra/monitoring/k8s) live in the namespace the production overlay creates, next to the API', async () => {
    const { readFileSync } = await import('node:fs');
    const rules = parseAllDocuments(
      readFileSync(join(here, '../monitoring/k8s/managed-rules.yaml'), 'utf8'),
    )[0].toJS() as Manifest;
    const prod = rendered('overlays/production');
    assert.ok(
      prod.some((m) => m.kind === 'Namespace' && m.metadata.name === rules.metadata.namespace),
      `Rules namespace ${rules.metadata.namespace} is created`,
    );
    assert.equal(
      named(prod, 'Deployment', 'flight-delay-api').metadata.namespace,
      rules.metadata.namespace,
      'namespaced Rules only see their own namespace',
    );
  });

  test('the retrain alert env the pods get from the Secret is what the API reads (api/alerts.ts webhookFromEnv)', async () => {
    const { readFileSync } = await import('node:fs');
    const alerts = readFileSync(join(here, '../../api/alerts.ts'), 'utf8');
    const api = named(rendered('overlays/production'), 'Deployment', 'flight-delay-api').spec.template.spec
      .containers[0];
    const fromSecret = api.env
      .filter((e: Obj) => e.valueFrom?.secretKeyRef?.key?.startsWith('retrain-'))
      .map((e: Obj) => e.name);
    assert.deepEqual(fromSecret, ['GITHUB_TOKEN', 'GITHUB_REPOSITORY', 'RETRAIN_WEBHOOK_URL', 'RETRAIN_WEBHOOK_TOKEN']);
    for (const name of fromSecret) assert.match(alerts, new RegExp(`env\\.${name}\\b`), `api/alerts.ts reads ${name}`);
  });

  test('every overlay directory is covered by these tests', () => {
    const dirs = readdirSync(join(here, 'overlays'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    assert.deepEqual(dirs, [...OVERLAYS].sort());
  });

  test('monitoring CRDs are in separate components: each overlay renders at most one of them', () => {
    for (const overlay of OVERLAYS) {
      const kinds = rendered(`overlays/${overlay}`).map((m) => m.kind);
      assert.ok(!(kinds.includes('PodMonitoring') && kinds.includes('ServiceMonitor')), overlay);
    }
    const base = rendered('base').map((m) => m.kind);
    assert.ok(!base.includes('PodMonitoring') && !base.includes('ServiceMonitor'), 'base needs no monitoring CRD');
    assert.ok(rendered('overlays/production').some((m) => m.kind === 'PodMonitoring'));
    assert.ok(rendered('overlays/kube-prometheus').some((m) => m.kind === 'ServiceMonitor'));
  });

  test('staging and production differ in replicas, resources, HPA bounds and namespace', () => {
    const get = (o: string) => {
      const ms = rendered(`overlays/${o}`);
      const d = named(ms, 'Deployment', 'flight-delay-api');
      const h = named(ms, 'HorizontalPodAutoscaler', 'flight-delay-api');
      return {
        ns: d.metadata.namespace,
        replicas: d.spec.replicas,
        cpu: d.spec.template.spec.containers[0].resources.requests.cpu,
        min: h.spec.minReplicas,
        max: h.spec.maxReplicas,
      };
    };
    const s = get('staging');
    const p = get('production');
    assert.ok(p.replicas > s.replicas, `production ${p.replicas} > staging ${s.replicas} replicas`);
    assert.ok(p.replicas >= 2, 'production survives losing a pod');
    assert.notEqual(s.cpu, p.cpu);
    assert.ok(p.min > s.min && p.max > s.max);
    assert.notEqual(s.ns, p.ns);
  });

  test('blue-green: both tracks render, the Service selects exactly one', () => {
    const ms = rendered('overlays/blue-green');
    const blue = named(ms, 'Deployment', 'flight-delay-api-blue');
    const green = named(ms, 'Deployment', 'flight-delay-api-green');
    assert.equal(blue.spec.template.metadata.labels.track, 'blue');
    assert.equal(green.spec.template.metadata.labels.track, 'green');
    assert.equal(blue.spec.replicas, green.spec.replicas, 'the idle track can take all traffic at once');
    assert.ok(
      !ms.some((m) => m.kind === 'Deployment' && m.metadata.name === 'flight-delay-api'),
      'no third, untracked Deployment',
    );
    const svc = named(ms, 'Service', 'flight-delay-api');
    const selected = [blue, green].filter((d) => matches(svc.spec.selector, d.spec.template.metadata.labels));
    assert.equal(selected.length, 1, 'exactly one track is live');
    assert.equal(selected[0].metadata.name, `flight-delay-api-${svc.spec.selector.track}`);
    for (const d of [blue, green]) named(ms, 'HorizontalPodAutoscaler', d.metadata.name);
  });

  test('canary: stable and one canary share the Service by the app label', () => {
    const ms = rendered('overlays/canary');
    const stable = named(ms, 'Deployment', 'flight-delay-api');
    const canary = named(ms, 'Deployment', 'flight-delay-api-canary');
    assert.equal(stable.spec.template.metadata.labels.track, 'stable');
    assert.equal(canary.spec.template.metadata.labels.track, 'canary');
    assert.equal(canary.spec.replicas, 1);
    assert.ok(stable.spec.replicas >= 3, 'canary share ≤ 25 %');
    assert.equal(canary.spec.template.metadata.labels[APP], stable.spec.template.metadata.labels[APP]);
    const svc = named(ms, 'Service', 'flight-delay-api');
    assert.ok(
      matches(svc.spec.selector, stable.spec.template.metadata.labels) &&
        matches(svc.spec.selector, canary.spec.template.metadata.labels),
    );
    assert.deepEqual(
      canary.spec.template.spec.containers[0].resources,
      stable.spec.template.spec.containers[0].resources,
      'like-for-like pods',
    );
    // The production overlay is the canary overlay minus the canary.
    const prodIds = rendered('overlays/production').map(id).sort();
    assert.deepEqual(
      ms
        .map(id)
        .filter((x) => x !== 'Deployment/flight-delay-api-canary')
        .sort(),
      prodIds,
    );
  });

  test('a rollout never drops below the desired replicas', () => {
    for (const overlay of OVERLAYS)
      for (const d of ofKind(rendered(`overlays/${overlay}`), 'Deployment').filter(serving)) {
        assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0, `${overlay} ${id(d)}`);
        assert.ok(d.spec.progressDeadlineSeconds > 0);
      }
  });
}

const curl = spawnSync('curl', ['--version'], { encoding: 'utf8' });
test(
  'score.sh waits for /readyz, posts the instances to the KServe route, writes the output',
  { skip: curl.error ? `curl not available (${curl.error.message})` : false },
  async () => {
    const { readFileSync } = await import('node:fs');
    const { spawn } = await import('node:child_process');
    const seen: string[] = [];
    let readyCalls = 0;
    const server = await serve((req, res) => {
      void readBody(req).then((body) => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
        if (req.url === '/readyz')
          return void (++readyCalls < 2 ? res.writeHead(503).end('loading') : res.writeHead(200).end('ok'));
        const { instances } = JSON.parse(body) as { instances: unknown[] };
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ predictions: instances.map(() => ({ probability: 0.5 })) }));
      });
    });
    const port = server.port;
    const out = await tempDir('batch-out-');
    try {
      const script = join(here, 'base/batch/score.sh');
      const env = {
        PATH: process.env.PATH,
        TARGET_URL: `http://127.0.0.1:${port}`,
        BATCH_OUTPUT_URL: out,
        MODEL_NAME: 'flight-delay',
        API_TOKEN: 'x'.repeat(24),
        INSTANCES_FILE: join(here, 'base/batch/instances.json'),
        WORK_DIR: join(out, 'work'),
      };
      // --retry-delay in the script is 10 s: one 503 then 200 keeps this test around 10 s.
      const code = await new Promise<number | null>((resolve) => {
        const p = spawn('sh', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        p.stderr.on('data', (c) => (err += c));
        p.on('close', (c) => (c === 0 ? resolve(c) : (console.error(err), resolve(c))));
      });
      assert.equal(code, 0);
      assert.deepEqual(
        seen.map((s) => s.split(' ').slice(0, 2).join(' ')),
        ['GET /readyz', 'GET /readyz', 'POST /v1/models/flight-delay:predict'],
      );
      assert.match(seen[2], /Bearer x{24}$/);
      const files = readdirSync(out).filter((f) => f.endsWith('.json'));
      assert.equal(files.length, 1);
      assert.match(files[0], /^\d{8}T\d{6}Z\.json$/);
      const written = JSON.parse(readFileSync(join(out, files[0]), 'utf8')) as { predictions: unknown[] };
      assert.equal(written.predictions.length, 3);
    } finally {
      await server.close();
    }
  },
);
