/** Service settings from the environment, validated once at start with clear messages. */
import { usableCores } from '../core/platform/cpu-quota.ts';
import { parseSigningKeys, type SigningKey } from './prediction-id.ts';
export interface ApiConfig {
  host: string;
  port: number;
  registryUrl: string;
  modelName: string;
  stage: string;
  pollIntervalMs: number;
  apiTokens: string[];
  /** PUBLIC_API=on: serving without API_TOKENS is meant (no warning at start). */
  publicApi: boolean;
  /** METRICS_TOKENS: scrape credentials, good for GET /metrics only (when API_TOKENS protects it). */
  metricsTokens: string[];
  adminToken: string | null;
  maxInstances: number;
  bodyLimitBytes: number;
  batchWaitMs: number;
  maxBatchRows: number;
  shutdownTimeoutMs: number;
  goldenTolerance: number;
  /** WARM_UP_MS: requests driven through a throwaway copy of the app for this long before the port opens (api/warm-up.ts); 0: off. */
  warmUpMs: number;
  workers: number;
  /** Ids joined per replica that a repeat is checked against (FEEDBACK_CAPACITY). */
  feedbackCapacity: number;
  /** PREDICTION_ID_KEYS: the first signs prediction ids, all verify (rotation); null: a random key per process. */
  predictionIdKeys: SigningKey[] | null;
  feedbackTtlMs: number;
  /** FEEDBACK_DEDUPE_URL (redis:// or rediss://): the store every replica claims joined ids in; null: each replica refuses only its own repeats. */
  feedbackDedupeUrl: string | null;
  /** FEEDBACK_DEDUPE_TIMEOUT_MS: a claim not answered within this is answered 503 + Retry-After. */
  feedbackDedupeTimeoutMs: number;
  feedbackWindow: number;
  monitoring: boolean;
  /** GET /metrics, /drift and /feedback without a token even when API_TOKENS is set. */
  publicMonitoring: boolean;
  /** Live quality and drift are recomputed at most this often for readers (0: on every read). */
  monitoringCacheMs: number;
  driftWindow: number;
  driftIntervalMs: number;
  alertPersistChecks: number;
  alertMinIntervalMs: number;
  alertLiveDrop: number;
  alertLiveMinSamples: number;
}

function int(env: Record<string, string | undefined>, key: string, def: number, min = 0): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${key}=${raw} is not a whole number ≥ ${min}`);
  return n;
}

function onOff(env: Record<string, string | undefined>, key: string, def: boolean): boolean {
  const raw = env[key]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return def;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new Error(`${key}=${env[key]} must be on or off`);
}

function tokenList(env: Record<string, string | undefined>, key: string): string[] {
  const tokens = (env[key] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of tokens)
    if (t.length < 16) throw new Error(`every ${key} entry must be at least 16 characters (use long random tokens)`);
  return tokens;
}

function dedupeUrl(raw: string | undefined): string | null {
  const url = raw?.trim();
  if (!url) return null;
  let scheme = '';
  try {
    scheme = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (scheme !== 'redis:' && scheme !== 'rediss:')
    throw new Error(
      'FEEDBACK_DEDUPE_URL must be a Redis URL, redis://[:password@]host:port[/db] (rediss:// for TLS); unset it to refuse repeated feedback per replica only',
    );
  return url;
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  defaults: { registryUrl?: string; modelName?: string } = {},
): ApiConfig {
  const tokens = tokenList(env, 'API_TOKENS');
  const publicApi = onOff(env, 'PUBLIC_API', false);
  // Set but holding no token (an empty Secret key, a stray comma) is a misconfiguration, not a
  // request for an open API: refuse to start rather than serve everyone.
  if (env.API_TOKENS !== undefined && tokens.length === 0 && !publicApi) {
    throw new Error(
      'API_TOKENS is set but holds no token (empty, or only commas): put the tokens in it, or unset it and set PUBLIC_API=on to serve without authentication',
    );
  }
  const admin = env.ADMIN_TOKEN?.trim() || null;
  if (admin && admin.length < 16) throw new Error('ADMIN_TOKEN must be at least 16 characters');
  return {
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 8080),
    registryUrl: env.REGISTRY_URL || defaults.registryUrl || 'registry',
    modelName: env.MODEL_NAME || defaults.modelName || 'flight-delay',
    stage: env.MODEL_STAGE || 'production',
    pollIntervalMs: int(env, 'POLL_INTERVAL_MS', 10_000, 100),
    apiTokens: tokens,
    publicApi,
    metricsTokens: tokenList(env, 'METRICS_TOKENS'),
    adminToken: admin,
    maxInstances: int(env, 'MAX_INSTANCES', 1000, 1),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1 << 20, 1024),
    batchWaitMs: env.BATCH_WAIT_MS === 'off' ? -1 : int(env, 'BATCH_WAIT_MS', 0, 0),
    maxBatchRows: int(env, 'MAX_BATCH_ROWS', 2048, 1),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0),
    goldenTolerance: Number(env.GOLDEN_TOLERANCE ?? 1e-6),
    warmUpMs: int(env, 'WARM_UP_MS', 2000, 0),
    workers: env.WORKERS === 'auto' ? usableCores() : int(env, 'WORKERS', 1, 1),
    feedbackCapacity: int(env, 'FEEDBACK_CAPACITY', 200_000, 1),
    predictionIdKeys: env.PREDICTION_ID_KEYS === undefined ? null : parseSigningKeys(env.PREDICTION_ID_KEYS),
    feedbackTtlMs: int(env, 'FEEDBACK_TTL_MS', 24 * 3_600_000, 1000),
    feedbackDedupeUrl: dedupeUrl(env.FEEDBACK_DEDUPE_URL),
    feedbackDedupeTimeoutMs: int(env, 'FEEDBACK_DEDUPE_TIMEOUT_MS', 100, 1),
    feedbackWindow: int(env, 'FEEDBACK_WINDOW', 5000, 10),
    monitoring: env.MONITORING !== 'off',
    publicMonitoring: onOff(env, 'PUBLIC_MONITORING', false),
    monitoringCacheMs: int(env, 'MONITORING_CACHE_MS', 1000, 0),
    driftWindow: int(env, 'DRIFT_WINDOW', 5000, 10),
    driftIntervalMs: int(env, 'DRIFT_INTERVAL_MS', 10_000, 100),
    alertPersistChecks: int(env, 'ALERT_PERSIST_CHECKS', 6, 1),
    alertMinIntervalMs: int(env, 'ALERT_MIN_INTERVAL_MS', 6 * 3_600_000, 0),
    alertLiveDrop: Number(env.ALERT_LIVE_DROP ?? 0.05),
    alertLiveMinSamples: int(env, 'ALERT_LIVE_MIN_SAMPLES', 500, 1),
  };
}
