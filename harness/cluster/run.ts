/**
 * The cluster run: N API replicas from one registry behind a real load balancer, a real
 * Prometheus scraping each with the project's rules, real May traffic with late labels, a
 * promotion and a SIGKILL mid-run; returns the figures and the checks (see README.md).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openRegistry } from '../../core/registry/index.ts';
import { loadBundle } from '../../core/model/bundle.ts';
import { selectBackend } from '../../core/model/tfjs-backend.ts';
import { BALANCER_BINARIES, BALANCER_RETRIES, PROMETHEUS_BINARY, type Balancer } from './config.ts';
import { FLEET_RULES, PER_REPLICA, SCRAPE_JOB, VERSION_LABEL } from './contract.ts';
import { PREDICTION_TRACK } from '../../core/drift/index.ts';
import { startFleet, until } from './fleet.ts';
import { buildClusterRegistry, MODEL_NAME } from './model.ts';
import { ProcessGroup } from './processes.ts';
import { countedAnswers, oneProcessDrift } from './reference.ts';
import {
  checks,
  compareDrift,
  feedbackFigures,
  fleetDriftScores,
  fleetDriftVerdicts,
  predictionFigures,
  qualityByVersion,
  type Check,
  type Verdict,
} from './summary.ts';
import { loadFlights, replay } from './traffic.ts';
import { repeatFigures } from './repeats.ts';
import { REDIS_SERVER } from '../testing/redis.ts';

export interface ClusterOptions {
  replicas: number;
  lb: Balancer;
  requests: number;
  rate: number;
  seed: number;
  from: string;
  /** The promotion bound: every live replica serves the new version within this. */
  convergeBoundMs: number;
  /** Share of the labels posted a second time, to another live replica. */
  repeatShare: number;
  say: (m: string) => void;
}

export interface ClusterResult {
  verdict: Verdict;
  checks: Check[];
  extra: [string, string][];
  summary: Record<string, unknown>;
}

async function servedVersion(port: number): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/models/${MODEL_NAME}`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { version: number | null }).version;
}

export async function runCluster(o: ClusterOptions): Promise<ClusterResult> {
  for (const bin of [BALANCER_BINARIES[o.lb], PROMETHEUS_BINARY, REDIS_SERVER])
    if (!existsSync(bin))
      throw new Error(`${bin} is missing: install it (apt-get install ${bin.split('/').pop()}; .ci/run does)`);
  const started = performance.now();
  const group = new ProcessGroup();
  try {
    const dir = await group.tempDir('cluster-rehearse-');
    o.say(`temporary directory ${dir}`);
    const repo = join(dir, 'repo');
    await mkdir(repo);
    const reg = await buildClusterRegistry(repo, o.say);
    const flights = await loadFlights(o.from, o.requests);
    o.say(`${flights.length} flights from ${o.from} loaded`);

    const { replicas, lbUrl, promql } = await startFleet(group, {
      dir,
      registryUrl: reg.url,
      replicas: o.replicas,
      lb: o.lb,
      requests: o.requests,
      say: o.say,
    });

    // ── traffic, promotion, kill ──
    const registry = await openRegistry(reg.url, {});
    const victim = replicas[replicas.length - 1];
    let kill: { replica: string; atMs: number } | undefined;
    let convergence: Promise<number | null> = Promise.resolve(null);
    const durationMs = (flights.length * 1000) / o.rate;
    const traffic = await replay({
      url: lbUrl,
      flights,
      rate: o.rate,
      seed: o.seed,
      replicas,
      // Labels arrive after the kill, late and shuffled, while predictions still flow.
      labelDelay: { minMs: 0.5 * durationMs, maxMs: 0.9 * durationMs },
      timeoutMs: 20_000,
      say: o.say,
      repeat: {
        share: o.repeatShare,
        to: (first, pick) => {
          const others = replicas.filter((r) => r.name !== first && r.process.alive());
          return others.length ? others[Math.floor(pick * others.length)] : undefined;
        },
      },
      at: [
        {
          share: 0.25,
          action: async () => {
            await registry.setStage(MODEL_NAME, 'production', reg.promoted, {
              source: 'cluster:rehearse',
              reason: 'cluster run: promotion mid-traffic',
            });
            const t = performance.now();
            o.say(`promoted v${reg.promoted}`);
            convergence = until(`every live replica serving v${reg.promoted}`, o.convergeBoundMs, async () => {
              const live = replicas.filter((r) => r.process.alive());
              const versions = await Promise.all(live.map((r) => servedVersion(r.port).catch(() => null)));
              return versions.every((v) => v === reg.promoted) ? Math.round(performance.now() - t) : undefined;
            }).catch(() => null);
          },
        },
        {
          share: 0.45,
          action: (elapsedMs: number) => {
            victim.process.child.kill('SIGKILL');
            kill = { replica: victim.name, atMs: elapsedMs };
            o.say(`SIGKILL ${victim.name} (pid ${victim.process.child.pid})`);
          },
        },
      ],
    });
    const convergedMs = await convergence;
    o.say('traffic done; waiting for the last scrape and rule evaluation');

    // The replicas judge drift every second; two scrapes and an evaluation after that, the rules see it all.
    const after = Date.now() / 1000 + 2.5;
    await until('a scrape of every live replica after the traffic', 20_000, async () =>
      ((await promql.scalar(`min(timestamp(up{job="${SCRAPE_JOB}"} == 1))`)) ?? 0) > after ? true : undefined,
    );
    const scraped = Date.now() / 1000;
    await until('a rule evaluation after that scrape', 10_000, async () =>
      (await promql.rulesEvaluatedAt()) > scraped ? true : undefined,
    );

    // ── figures ──
    const survivors = replicas.filter((r) => r.process.alive()).map((r) => r.name);
    const predictions = predictionFigures(traffic.predictions);
    const feedback = feedbackFigures(traffic.feedback, kill);
    const byIndex = new Map(traffic.predictions.map((p) => [p.index, p]));
    const { tf } = await selectBackend({});
    const promoted = await loadBundle(tf, join(repo, `bundle-${reg.promoted}`));
    const task = promoted.meta.task;
    const positiveAbove = promoted.spec.target.positive_above ?? 0;
    const lostAtKill = new Set(
      traffic.feedback
        .filter((f) => f.status !== 200 && kill && f.startedAt <= kill.atMs && f.endedAt >= kill.atMs)
        .map((f) => f.index),
    );
    const pairs = traffic.feedback
      .filter((f) => !lostAtKill.has(f.index))
      .map((f) => {
        const p = byIndex.get(f.index)!;
        const delay = flights[f.index].delay;
        return {
          version: p.version!,
          predicted: p.value!,
          threshold: p.threshold,
          actual: task === 'regression' ? delay : delay > positiveAbove ? 1 : 0,
        };
      });
    const samples = async (q: string) =>
      (await promql.vector(q)).map((x) => ({ labels: x.metric, value: Number(x.value[1]) }));
    // What Prometheus summed for the promoted version: the survivors' answers, and the killed
    // replica's up to its last scrape — how many, its counters say (reference.ts countedAnswers).
    const killedCounted = kill
      ? ((await promql.scalar(
          `sum(last_over_time(${PER_REPLICA.driftServed}{instance="${kill.replica}",${VERSION_LABEL}="${reg.promoted}",feature="${PREDICTION_TRACK}"}[1h]))`,
        )) ?? 0)
      : 0;
    const driftRows = countedAnswers(
      traffic.predictions.filter((p) => p.status === 200 && p.version === reg.promoted),
      survivors,
      kill && { replica: kill.replica, counted: killedCounted },
    ).map((p) => ({ record: flights[p.index].record, prediction: p.value! }));
    const oneProcess = oneProcessDrift(promoted, driftRows);
    const verdict: Verdict = {
      predictions,
      feedback,
      quality: qualityByVersion(task, pairs, await samples(FLEET_RULES.liveQuality)),
      drift: compareDrift(
        oneProcess.verdicts,
        fleetDriftVerdicts(await samples(FLEET_RULES.driftDetected), reg.promoted),
        {
          one_process: oneProcess.scores,
          fleet: fleetDriftScores(await samples(FLEET_RULES.driftScore), reg.promoted),
        },
      ),
      promotion: { version: reg.promoted, converged_ms: convergedMs, bound_ms: o.convergeBoundMs },
      ...(o.repeatShare > 0 ? { repeats: repeatFigures(traffic.repeats) } : {}),
      unexpected_exits: replicas
        .filter((r) => r !== victim && !r.process.alive())
        .map((r) => ({
          replica: r.name,
          how: r.process.child.signalCode ? `signal ${r.process.child.signalCode}` : `code ${r.process.child.exitCode}`,
          output: r.process.output().split('\n').slice(-15).join('\n'),
        })),
    };
    promoted.model.dispose();

    // Today's per-replica series, for comparison: what averaging per-pod figures would say.
    const perReplica: Record<string, Record<string, number>> = {};
    for (const s of await promql.vector(`${PER_REPLICA.liveQuality}{metric=~"accuracy|roc_auc|mae|rmse|samples"}`))
      (perReplica[s.metric.instance] ??= {})[s.metric.metric] = Number(s.value[1]);
    const joinedInPrometheus = await promql.scalar(`sum(${PER_REPLICA.feedback}{outcome="joined"})`);
    const list = checks(verdict);
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    const extra: [string, string][] = [
      [
        'per-replica live quality (model_live_quality)',
        Object.entries(perReplica)
          .map(
            ([k, v]) =>
              `${k}: ${Object.entries(v)
                .map(([m, x]) => `${m} ${Number.isInteger(x) ? x : x.toFixed(4)}`)
                .join(' ')}`,
          )
          .join('; ') || '—',
      ],
      ['joined feedback summed by Prometheus', joinedInPrometheus === null ? '—' : String(joinedInPrometheus)],
      [
        `SIGKILL`,
        kill
          ? `${kill.replica} at ${(kill.atMs / 1000).toFixed(1)} s of traffic; survivors ${survivors.join(', ')}; Prometheus counted ${killedCounted} of its ${
              traffic.predictions.filter((p) => p.replica === kill!.replica && p.version === reg.promoted).length
            } v${reg.promoted} answers (up to its last scrape)`
          : 'not done',
      ],
      ['balancer retries', BALANCER_RETRIES[o.lb]],
      ['run time', `${seconds} s`],
    ];
    return {
      verdict,
      checks: list,
      extra,
      summary: {
        replicas: o.replicas,
        lb: o.lb,
        balancer_retries: BALANCER_RETRIES[o.lb],
        requests: flights.length,
        rate: o.rate,
        seed: o.seed,
        from: o.from,
        repeat_share: o.repeatShare,
        seconds,
        ...verdict,
        kill: kill && { ...kill, promoted_answers_counted_by_prometheus: killedCounted },
        survivors,
        per_replica_live_quality: perReplica,
        joined_feedback_in_prometheus: joinedInPrometheus,
        checks: list,
        failed: list.filter((c) => !c.ok).map((c) => c.name),
      },
    };
  } finally {
    await group.close();
  }
}
