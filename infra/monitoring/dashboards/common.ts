/** Shared builders for the dashboards (Grafana Foundation SDK): datasource variable, panels, queries. */
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import {
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
  LegendDisplayMode,
  LegendPlacement,
} from '@grafana/grafana-foundation-sdk/common';
import { JOB } from '../slo.ts';

/** Every panel and annotation queries the datasource chosen in the `datasource` variable. */
export const DS = { type: 'prometheus', uid: '${datasource}' };
/** Selector of the API's series on every query. */
export const SEL = 'job=~"$job"';

export interface Query {
  expr: string;
  legend?: string;
}

const target = (q: Query, i: number) =>
  new DataqueryBuilder()
    .expr(q.expr)
    .legendFormat(q.legend ?? '__auto')
    .refId(String.fromCharCode(65 + i))
    .datasource(DS);

export function timeseries(
  title: string,
  description: string,
  unit: string,
  queries: Query[],
  width = 12,
): TimeseriesBuilder {
  const p = new TimeseriesBuilder()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(DS)
    .span(width)
    .height(8)
    .fillOpacity(10)
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    );
  queries.forEach((q, i) => p.withTarget(target(q, i)));
  return p;
}

export function stat(title: string, description: string, unit: string, queries: Query[], width = 6): StatBuilder {
  const p = new StatBuilder()
    .title(title)
    .description(description)
    .unit(unit)
    .datasource(DS)
    .span(width)
    .height(4)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  queries.forEach((q, i) => p.withTarget(target(q, i)));
  return p;
}

export const row = (title: string) => new RowBuilder(title);

export function baseDashboard(uid: string, title: string, tags: string[]): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .tags(['gitops-ml', ...tags])
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'))
    .withVariable(
      new QueryVariableBuilder('job')
        .label('Job')
        .datasource(DS)
        .query('label_values(up, job)')
        .current({ text: JOB, value: JOB })
        .includeAll(true)
        .allValue('.*'),
    );
}
