/**
 * Alerts that act: when dataset drift, or a drop of live quality below what the model showed at
 * validation, persists over several consecutive checks, POST a retrain request — by default a
 * GitHub `repository_dispatch` with event type `retrain`, which the train workflow listens to.
 * Rate limited, and the payload says why.
 */
import type { Logger } from '../core/platform/log.ts';
import type { DriftState } from './drift-monitor.ts';
import type { LiveMetrics } from './feedback.ts';

export interface AlertOptions {
  url: string | null;
  token?: string;
  /** Consecutive checks a condition must hold before firing. */
  persistChecks: number;
  minIntervalMs: number;
  /** Live metric drop (below the validation value) that counts as degradation. */
  liveDrop: number;
  liveMinSamples: number;
  log: Logger;
  fetchImpl?: typeof fetch;
  now?: () => number;
}

export type AlertOutcome = 'disabled' | 'quiet' | 'pending' | 'fired' | 'rate_limited' | 'failed';

export function webhookFromEnv(env: Record<string, string | undefined>): { url: string | null; token?: string } {
  if (env.RETRAIN_WEBHOOK_URL)
    return { url: env.RETRAIN_WEBHOOK_URL, token: env.RETRAIN_WEBHOOK_TOKEN ?? env.GITHUB_TOKEN };
  if (env.GITHUB_REPOSITORY && env.GITHUB_TOKEN)
    return { url: `https://api.github.com/repos/${env.GITHUB_REPOSITORY}/dispatches`, token: env.GITHUB_TOKEN };
  return { url: null };
}

export class RetrainAlerter {
  private streak = 0;
  private lastFired = -Infinity;
  lastOutcome: AlertOutcome = 'quiet';

  constructor(private readonly o: AlertOptions) {}

  /** Reasons the model needs retraining now, if any. */
  reasons(drift: DriftState, live: LiveMetrics | null, validation: Record<string, unknown> | undefined): string[] {
    const out: string[] = [];
    if (drift.dataset.drifted)
      out.push(
        `dataset drift: ${drift.dataset.drifted_features.length} of ${drift.dataset.evaluated} features drifted (${drift.dataset.drifted_features.join(', ')})`,
      );
    if (live && live.n >= this.o.liveMinSamples) {
      const metric = live.task === 'classification' ? 'roc_auc' : live.task === 'multiclass' ? 'accuracy' : 'rmse';
      const now =
        live.task === 'classification' ? live.roc_auc : live.task === 'multiclass' ? live.accuracy : live.rmse;
      const then = validation?.[metric];
      if (typeof now === 'number' && typeof then === 'number') {
        const worse = live.task === 'regression' ? (now - then) / Math.max(Math.abs(then), 1e-9) : then - now;
        if (worse >= this.o.liveDrop)
          out.push(`live ${metric} ${now.toFixed(4)} vs ${then.toFixed(4)} at validation over ${live.n} outcomes`);
      }
    }
    return out;
  }

  async check(
    drift: DriftState,
    live: LiveMetrics | null,
    model: { name: string; version: number; validation?: Record<string, unknown> },
  ): Promise<AlertOutcome> {
    const why = this.reasons(drift, live, model.validation);
    this.streak = why.length ? this.streak + 1 : 0;
    if (!why.length) return (this.lastOutcome = 'quiet');
    if (this.streak < this.o.persistChecks) return (this.lastOutcome = 'pending');
    if (!this.o.url) return (this.lastOutcome = 'disabled');
    const now = (this.o.now ?? Date.now)();
    if (now - this.lastFired < this.o.minIntervalMs) return (this.lastOutcome = 'rate_limited');
    const payload = {
      event_type: 'retrain',
      client_payload: {
        model: model.name,
        version: model.version,
        reasons: why,
        persisted_checks: this.streak,
        drift_share: drift.dataset.drift_share,
        drifted_features: drift.dataset.drifted_features,
        window: drift.window,
        at: new Date(now).toISOString(),
      },
    };
    try {
      const res = await (this.o.fetchImpl ?? fetch)(this.o.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/vnd.github+json',
          ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}),
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.lastFired = now;
      this.o.log.warn('retrain requested', { url: this.o.url, reasons: why });
      return (this.lastOutcome = 'fired');
    } catch (err) {
      this.o.log.error('retrain webhook failed; will retry at the next check', {
        url: this.o.url,
        error: (err as Error).message,
      });
      return (this.lastOutcome = 'failed');
    }
  }
}
