import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pushPipelineMetrics } from './pushgateway.ts';
import { quietLog, tempRepo } from '../harness/testing/training/fixtures.ts';
import type { PipelineResult } from './pipeline/runner.ts';
import { freePort } from '../core/platform/free-port.ts';
import { metricsFixture, writeMetricsFixtureFile } from '../harness/testing/core/metrics-fixtures.ts';
import { stopChild, waitFor } from '../harness/testing/lifecycle.ts';

const PUSHGATEWAY = '/usr/bin/prometheus-pushgateway';

const result: PipelineResult = {
  ok: true,
  durationMs: 61_000,
  stages: [
    { name: 'validate', status: 'skipped', reasons: [], durationMs: 0 },
    { name: 'train', status: 'ran', reasons: [], durationMs: 55_300 },
  ],
};

test(
  'pipeline metrics land in the real Pushgateway',
  {
    skip: existsSync(PUSHGATEWAY)
      ? false
      : 'prometheus-pushgateway not installed (Debian package prometheus-pushgateway)',
  },
  async () => {
    const repo = await tempRepo();
    const metrics = join(repo, 'metrics');
    await writeMetricsFixtureFile(
      metrics,
      'validate',
      metricsFixture('validate', {
        rows_in: 150_000,
        rows_valid: 149_900,
        rows_rejected: 100,
        reject_rate: 0.000667,
        rejects_by_reason: { wrong_type: 60, out_of_range: 40 },
      }),
    );
    await writeMetricsFixtureFile(
      metrics,
      'evaluate',
      metricsFixture('evaluate', { rows_test: 100, test: { roc_auc: 0.654 }, baseline: { roc_auc: 0.5 } }),
    );
    await writeMetricsFixtureFile(metrics, 'register', metricsFixture('register', { version: 3 }));
    const port = await freePort();
    const gw = spawn(PUSHGATEWAY, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        'the Pushgateway to be ready',
        async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined),
        {
          timeoutMs: 10_000,
          intervalMs: 100,
        },
      );
      assert.equal(
        await pushPipelineMetrics(repo, result, { url: base, model: 'flight-delay', log: quietLog() }),
        true,
      );
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(
        text,
        /pipeline_stage_duration_seconds\{instance="",job="gitops_ml_pipeline",model="flight-delay",stage="train",status="ran"\} 55\.3/,
      );
      assert.match(text, /pipeline_rejects\{.*reason="wrong_type".*\} 60/);
      assert.match(text, /pipeline_model_test_metric\{.*metric="roc_auc".*series="candidate"\} 0\.654/);
      assert.match(text, /pipeline_registered_version\{decision="promoted".*\} 3/);
      assert.match(text, /pipeline_success\{.*\} 1/);
      // An unreachable gateway is a warning, never a pipeline failure.
      assert.equal(await pushPipelineMetrics(repo, result, { url: 'http://127.0.0.1:9', log: quietLog() }), false);
    } finally {
      await stopChild(gw);
    }
  },
);
