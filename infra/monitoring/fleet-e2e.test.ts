/**
 * End to end for the fleet rules: three API replicas sharing a signing key, real Prometheus (1 s
 * scrape and evaluation) loading the generated rules. Predictions go to one replica, their labels
 * to others; the fleet live quality and drift scores Prometheus computes equal the figures one
 * process computes over the same traffic with core/ (what a cluster harness compares).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  SCHEMA,
  post,
  registryWithVersions,
  sampleRecords,
  startTestServer,
} from '../../harness/testing/api/support.ts';
import { removeTree, stopChild, waitFor, watchOutput } from '../../harness/testing/lifecycle.ts';
import { freePort } from '../../core/platform/free-port.ts';
import { recordsToTable } from '../../core/data/records.ts';
import { addPair, emptyCounts, liveFigures } from '../../core/model/live-quality.ts';
import { fleetDrift, resolveDriftParams } from '../../core/drift/index.ts';
import { DriftWindows, referenceStds } from '../../api/drift-window.ts';
import { MONITORING_DIR } from './generate.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const skip = existsSync(PROMETHEUS) ? false : `skipped: ${PROMETHEUS} is missing (apt-get install prometheus)`;
const KEYS = 'k1:fleet-e2e-secret-0123456789-0123456789';

test(
  '3 replicas + Prometheus: fleet:model_live_quality:total and fleet:model_drift_score:total equal one process’s figures',
  { skip, timeout: 90_000 },
  async () => {
    const { url, root } = await registryWithVersions([1]);
    const replicas = await Promise.all([0, 1, 2].map(() => startTestServer(url, root, { PREDICTION_ID_KEYS: KEYS })));
    const promDir = join(root, 'prometheus');
    let prom: ReturnType<typeof spawn> | undefined;
    try {
      await mkdir(join(promDir, 'data'), { recursive: true });
      const config = {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(MONITORING_DIR, 'prometheus/rules.yml')],
        scrape_configs: [
          { job_name: 'gitops-ml-api', static_configs: [{ targets: replicas.map((r) => new URL(r.url).host) }] },
        ],
      };
      await writeFile(join(promDir, 'prometheus.yml'), stringify(config));
      const promPort = await freePort();
      prom = spawn(
        PROMETHEUS,
        [
          `--config.file=${join(promDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(promDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { cwd: promDir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const output = watchOutput(prom).text;
      const promUrl = `http://127.0.0.1:${promPort}`;
      const query = async (q: string) => {
        const body = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
          data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        return body.data?.result ?? [];
      };

      // Traffic: each replica answers a batch; every label goes to the next replica.
      const one = emptyCounts('classification');
      const bundle = replicas[0].manager.current!.bundle;
      const windows = new DriftWindows(10, bundle.profile, bundle.spec);
      let joined = 0;
      for (const [r, srv] of replicas.entries()) {
        const records = sampleRecords(400).map((rec, i) => ({ ...rec, distance: 100 + ((i * 53 + r * 211) % 2500) }));
        const res = await post(`${srv.url}/v1/models/flight-delay:predict`, { instances: records });
        assert.equal(res.status, 200);
        const probs: number[] = res.json.predictions.map((p: { probability: number }) => p.probability);
        windows.add(recordsToTable(records, SCHEMA).table, probs);
        const labels = probs.map((p, i) => (((i * 7919) % 100) / 100 < p ? 1 : 0));
        const fb = await post(`${replicas[(r + 1) % 3].url}/feedback`, {
          feedback: res.json.prediction_ids.map((id: string, i: number) => ({ prediction_id: id, label: labels[i] })),
        });
        assert.equal(fb.status, 200);
        probs.forEach((p, i) => addPair(one, labels[i], p, res.json.predictions[i].threshold));
        joined += probs.length;
      }
      const expected = liveFigures(one);
      const drift = fleetDrift(windows.fleetTracks(referenceStds(bundle.profile)), resolveDriftParams());
      assert.equal(expected.task, 'classification');
      if (expected.task !== 'classification') return;
      const want = {
        samples: joined,
        accuracy: expected.accuracy,
        roc_auc: expected.roc_auc,
        ...Object.fromEntries(drift.features.map((f) => [`score ${f.feature}`, f.score])),
        ...Object.fromEntries(drift.features.map((f) => [`detected ${f.feature}`, f.detected ? 1 : 0])),
      };
      const seen = async () => ({
        samples: Number((await query('fleet:model_feedback_samples:total'))[0]?.value[1]),
        ...Object.fromEntries(
          (await query('fleet:model_live_quality:total')).map((s) => [s.metric.metric, Number(s.value[1])]),
        ),
        ...Object.fromEntries(
          (await query('fleet:model_drift_score:total')).map((s) => [`score ${s.metric.feature}`, Number(s.value[1])]),
        ),
        ...Object.fromEntries(
          (await query('fleet:model_drift_detected:total')).map((s) => [
            `detected ${s.metric.feature}`,
            Number(s.value[1]),
          ]),
        ),
      });
      const close = (got: Record<string, number>) =>
        Object.entries(want).every(([k, v]) => typeof got[k] === 'number' && Math.abs(got[k] - (v as number)) < 1e-9);
      let last: Record<string, number> = {};
      try {
        await waitFor(
          'the fleet rules to give one process’s figures',
          async () => (close((last = await seen())) ? true : undefined),
          {
            timeoutMs: 60_000,
            intervalMs: 500,
            output,
          },
        );
      } catch (err) {
        assert.deepEqual(last, want, (err as Error).message);
      }
      assert.ok(
        drift.features.every((f) => f.n === 1200 && f.detected !== null),
        'verdicts on 1,200 values (above size_cutoff)',
      );
    } finally {
      if (prom) await stopChild(prom);
      await Promise.all(replicas.map((r) => r.close()));
      await removeTree(root);
    }
  },
);
