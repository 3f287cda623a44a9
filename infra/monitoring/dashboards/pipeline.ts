/**
 * Pipeline dashboard: the training pipeline's runs as pushed to the Pushgateway by
 * training/pushgateway.ts (job "gitops_ml_pipeline", one group per model; honor_labels keeps them).
 */
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  type Dashboard,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { BigValueTextMode } from '@grafana/grafana-foundation-sdk/common';
import { DS, row, stat, timeseries } from './common.ts';

/** Grouping job of the pushed pipeline metrics (training/pushgateway.ts). */
export const PIPELINE_JOB = 'gitops_ml_pipeline';
/** Selector of the pipeline's series on every query. */
export const PSEL = `job="${PIPELINE_JOB}",model=~"$model"`;

export function pipelineDashboard(): Dashboard {
  return new DashboardBuilder('gitops-ml · Training pipeline')
    .uid('gitops-ml-pipeline')
    .tags(['gitops-ml', 'pipeline', 'training'])
    .refresh('1m')
    .time({ from: 'now-30d', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('model')
        .label('Model')
        .datasource(DS)
        .query(`label_values(pipeline_success{job="${PIPELINE_JOB}"}, model)`)
        .includeAll(true)
        .allValue('.*'),
    )
    .withRow(row('Last run'))
    .withPanel(
      stat(
        'Last run succeeded',
        'pipeline_success of the last pushed run (1 = every stage ran or was up to date).',
        'bool_yes_no',
        [{ expr: `min by (model) (pipeline_success{${PSEL}})`, legend: '{{model}}' }],
      ),
    )
    .withPanel(
      stat(
        'Time since last run',
        'Now minus pipeline_last_run_timestamp_seconds: how long ago the pipeline last pushed its metrics.',
        's',
        [{ expr: `time() - max by (model) (pipeline_last_run_timestamp_seconds{${PSEL}})`, legend: '{{model}}' }],
      ),
    )
    .withPanel(
      stat('Registered version', 'Version the last run registered, with the registry decision.', 'none', [
        { expr: `max by (model, decision) (pipeline_registered_version{${PSEL}})`, legend: '{{model}} ({{decision}})' },
      ]).textMode(BigValueTextMode.ValueAndName),
    )
    .withPanel(
      stat(
        'Test metric: candidate vs baseline',
        'Primary metric of the last run on the test split, beside the baseline.',
        'none',
        [{ expr: `max by (metric, series) (pipeline_model_test_metric{${PSEL}})`, legend: '{{metric}} {{series}}' }],
      ).textMode(BigValueTextMode.ValueAndName),
    )
    .withRow(row('Stages'))
    .withPanel(
      timeseries('Stage duration', 'Wall time of each stage per run (0 when up to date and skipped).', 's', [
        { expr: `max by (stage) (pipeline_stage_duration_seconds{${PSEL}})`, legend: '{{stage}}' },
      ]),
    )
    .withPanel(
      timeseries('Stage success', '1 when the stage ran or was up to date, 0 when it failed or did not run.', 'none', [
        { expr: `min by (stage) (pipeline_stage_success{${PSEL}})`, legend: '{{stage}}' },
      ]),
    )
    .withRow(row('Data'))
    .withPanel(
      timeseries(
        'Rows valid / rejected',
        'Rows seen by the validate stage, by outcome.',
        'short',
        [{ expr: `sum by (outcome) (pipeline_rows{${PSEL}})`, legend: '{{outcome}}' }],
        8,
      ),
    )
    .withPanel(
      timeseries(
        'Rejects by reason',
        'Rejected rows per validation reason.',
        'short',
        [{ expr: `sum by (reason) (pipeline_rejects{${PSEL}})`, legend: '{{reason}}' }],
        8,
      ),
    )
    .withPanel(
      timeseries(
        'Split sizes',
        'Rows per split (train / validation / test) written by prepare.',
        'short',
        [{ expr: `sum by (split) (pipeline_split_rows{${PSEL}})`, legend: '{{split}}' }],
        8,
      ),
    )
    .withRow(row('Model'))
    .withPanel(
      timeseries(
        'Test metric vs baseline per run',
        'Candidate and baseline primary metric on the test split; each step is one run.',
        'none',
        [{ expr: `max by (metric, series) (pipeline_model_test_metric{${PSEL}})`, legend: '{{metric}} {{series}}' }],
      ),
    )
    .withPanel(
      timeseries('Registered version and decision', 'Version registered per run, one series per decision.', 'none', [
        { expr: `max by (decision) (pipeline_registered_version{${PSEL}})`, legend: '{{decision}}' },
      ]),
    )
    .withPanel(
      timeseries(
        'Time since last run',
        'Seconds since the last pushed run; a steadily rising line means the pipeline stopped running.',
        's',
        [{ expr: `time() - max by (model) (pipeline_last_run_timestamp_seconds{${PSEL}})`, legend: '{{model}}' }],
        24,
      ),
    )
    .build();
}
