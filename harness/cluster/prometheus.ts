/** The few Prometheus HTTP API reads the cluster run makes (instant queries). */
export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export function prometheusClient(url: string) {
  const vector = async (query: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { status: string; error?: string; data?: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`Prometheus refused ${query}: ${body.error ?? res.status}`);
    return body.data?.result ?? [];
  };
  return {
    vector,
    /** The oldest last evaluation (Unix seconds) over every rule group (0 before all have run once). */
    rulesEvaluatedAt: async (): Promise<number> => {
      const res = await fetch(`${url}/api/v1/rules`, { signal: AbortSignal.timeout(5000) });
      const body = (await res.json()) as { data?: { groups?: { lastEvaluation?: string }[] } };
      const times = (body.data?.groups ?? []).map((g) => Date.parse(g.lastEvaluation ?? '') / 1000);
      return times.length && times.every(Number.isFinite) ? Math.min(...times) : 0;
    },
    /** The value of a query that yields one series (null when it yields none). */
    scalar: async (query: string): Promise<number | null> => {
      const r = await vector(query);
      return r.length ? Number(r[0].value[1]) : null;
    },
  };
}
