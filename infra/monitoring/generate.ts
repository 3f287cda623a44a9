/**
 * Writes the generated monitoring files from their TypeScript sources:
 *   node --import tsx infra/monitoring/generate.ts          # write
 *   node --import tsx infra/monitoring/generate.ts --check  # exit 1 if a file is out of date
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderRules } from './rules.ts';
import { ruleTestFiles } from './promtool-tests.ts';
import { COMPOSE_CONFIG, HOST_CONFIG, renderPrometheusConfig } from './prometheus-config.ts';
import { renderAlertmanagerConfig } from './alertmanager.ts';
import { k8sFiles } from './k8s.ts';
import { dashboards } from './dashboards/index.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli } from '../../core/platform/cli.ts';

export const MONITORING_DIR = dirname(fileURLToPath(import.meta.url));

/** Path (relative to infra/monitoring) → content, for every generated file. */
export function generatedFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'prometheus/rules.yml': renderRules(),
    'prometheus/prometheus.yml': renderPrometheusConfig(HOST_CONFIG),
    'prometheus/prometheus.compose.yml': renderPrometheusConfig(COMPOSE_CONFIG),
    'alertmanager/alertmanager.yml': renderAlertmanagerConfig(),
  };
  const all = dashboards();
  for (const [name, dashboard] of Object.entries(all))
    files[`grafana/dashboards/${name}.json`] = JSON.stringify(dashboard, null, 2) + '\n';
  return { ...files, ...ruleTestFiles(), ...k8sFiles(all) };
}

export async function outdatedFiles(dir = MONITORING_DIR): Promise<string[]> {
  const out: string[] = [];
  for (const [rel, content] of Object.entries(generatedFiles())) {
    const current = await readFile(join(dir, rel), 'utf8').catch(() => null);
    if (current !== content) out.push(rel);
  }
  return out;
}

const USAGE = `usage: node --import tsx infra/monitoring/generate.ts [--check]
  write the generated monitoring files (Prometheus rules and configs, promtool tests, Alertmanager,
  Grafana dashboards, their Kubernetes manifests) from their TypeScript sources
  --check  write nothing; exit 1 when a committed file is out of date
exit: 0 written (or up to date), 1 out of date or failed, 2 usage error`;

if (isMain(import.meta.url))
  await defineCli(
    { name: 'monitoring:generate', usage: USAGE, options: { check: { type: 'boolean', default: false } } },
    async ({ values }, io) => {
      if (values.check) {
        const stale = await outdatedFiles();
        if (stale.length)
          throw new Error(`out of date (run node --import tsx infra/monitoring/generate.ts): ${stale.join(', ')}`);
        io.stdout('generated monitoring files are up to date\n');
        return;
      }
      for (const [rel, content] of Object.entries(generatedFiles())) {
        const path = join(MONITORING_DIR, rel);
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, content);
        io.stdout(`wrote infra/monitoring/${rel}\n`);
      }
    },
  ).main();
