/** PromQL checks with the Prometheus project's own Lezer grammar: parse errors and metric names used. */
import { parser } from '@prometheus-io/lezer-promql';

/** Grafana template variables are not PromQL: substitute plausible values before parsing. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, 'x');
}

export interface PromqlCheck {
  errors: string[];
  metrics: string[];
}

export function checkPromql(expr: string): PromqlCheck {
  const src = substituteGrafanaVariables(expr);
  const errors: string[] = [];
  const metrics = new Set<string>();
  parser.parse(src).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`parse error at ${node.from}: …${src.slice(Math.max(0, node.from - 20), node.from + 20)}…`);
      if (node.name === 'VectorSelector') {
        const id = node.node.getChild('Identifier');
        if (id) metrics.add(src.slice(id.from, id.to));
      }
    },
  });
  return { errors, metrics: [...metrics] };
}

/** Every `expr` string in a JSON document (dashboard panels, targets, annotations). */
export function jsonExpressions(doc: unknown, where = ''): { where: string; expr: string }[] {
  if (Array.isArray(doc)) return doc.flatMap((d, i) => jsonExpressions(d, `${where}[${i}]`));
  if (doc && typeof doc === 'object') {
    return Object.entries(doc).flatMap(([k, v]) =>
      k === 'expr' && typeof v === 'string'
        ? [{ where: `${where}.expr`, expr: v }]
        : jsonExpressions(v, `${where}.${k}`),
    );
  }
  return [];
}

/** Metric names a /metrics exposition declares (histograms and summaries expanded to their series). */
export function exportedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_count', '_sum']) names.add(name + s);
    if (type === 'summary') for (const s of ['_count', '_sum']) names.add(name + s);
  }
  return names;
}
