/**
 * `npm run gh:publish-report`: compose the training-report comment from metrics/ and put it where
 * the triggering event's readers look: a commit comment for pushes (and scheduled / dispatched
 * runs), one sticky comment on the PR for pull_request and workflow_run, and always the job
 * summary. Fork PRs get a read-only token, so their run leaves `pr-comment.md` + `pr-number.txt`
 * for a workflow_run job (trusted, no checkout of the fork) to post.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { execRunner } from './exec.ts';
import { readEvent, type CiEvent } from './event.ts';
import {
  bootstrapConfusionCI,
  diffMetrics,
  readBaseEvaluate,
  readBaseProduction,
  summarizeEvaluate,
  type BaseSource,
  type Runner,
} from './metrics-diff.ts';
import { GITHUB_COMMENT_LIMIT, MARKER, composeComment, truncateMarkdown } from './comment.ts';
import {
  makeOctokit,
  parseRepository,
  upsertCommitComment,
  upsertStickyComment,
  writeJobSummary,
  type PublishResult,
} from './github.ts';
import { MAX_FEATURE_CHARTS, chartSections, loadChartData, type ImageUrl } from './report/charts.ts';
import { baseImageUrl, commitImageUrl, repoRelativeDir } from './report/images.ts';
import { ANY_CML_WATERMARK, cmlWatermark, hasCmlWatermark, watermarkLabel } from './report/watermark.ts';
import { isMain } from '../../core/platform/is-main.ts';
import { defineCli } from '../../core/platform/cli.ts';
import { locateMetricsFile, readMetrics } from '../../core/schemas/metrics-files.ts';

const short = (sha: string | null | undefined) => (sha ?? '').slice(0, 7);
const ZERO_SHA = /^0+$/;

function baseFor(
  event: CiEvent,
  env: NodeJS.ProcessEnv,
  cwd: string,
  run: Runner,
): { src: BaseSource; label: string | null } {
  if (env.BASE_METRICS_DIR)
    return { src: { dir: resolve(cwd, env.BASE_METRICS_DIR) }, label: env.BASE_LABEL ?? 'base' };
  if (event.kind === 'pull_request')
    return { src: { ref: `origin/${event.baseRef}`, cwd, run }, label: `base \`${event.baseRef}\`` };
  if (event.kind === 'push' && !ZERO_SHA.test(event.before))
    return { src: { ref: event.before, cwd, run }, label: `previous ${short(event.before)}` };
  return { src: {}, label: null };
}

function describe(event: CiEvent, env: NodeJS.ProcessEnv): string {
  switch (event.kind) {
    case 'push':
      return `push to ${event.branch ?? event.tag} · ${short(event.sha)}`;
    case 'pull_request':
      return `PR #${event.number} · ${short(event.headSha)}${event.fork ? ` · from fork ${event.headRepo}` : ''}`;
    case 'workflow_run':
      return `PR #${event.prNumber ?? '?'} · ${short(event.headSha)} · via ${event.workflow || 'workflow_run'}`;
    case 'repository_dispatch':
      return `repository_dispatch \`${event.action}\` · ${short(env.GITHUB_SHA)}`;
    default:
      return `${event.kind} · ${short(env.GITHUB_SHA)}`;
  }
}

/** Events whose report goes on a commit (not a PR). */
const onCommit = (event: CiEvent) => event.kind !== 'pull_request' && event.kind !== 'workflow_run';

/** The commit a commit comment goes on (and whose tree serves the images): the one the workflow pushed. */
function commentSha(event: CiEvent, env: NodeJS.ProcessEnv): string | undefined {
  return env.REPORT_SHA || (event.kind === 'push' ? event.sha : env.GITHUB_SHA) || undefined;
}

/** The commit CML would put in its watermark (cml's triggerSha: the PR head, else GITHUB_SHA). */
function watermarkSha(event: CiEvent, env: NodeJS.ProcessEnv): string | undefined {
  if (event.kind === 'pull_request' || event.kind === 'workflow_run') return event.headSha;
  return commentSha(event, env);
}

/**
 * PNG URLs: REPORT_IMAGE_BASE_URL if the workflow published metrics/ somewhere readable; for a
 * commit comment, the pushed commit itself; for a PR (forks commit nothing): none, Mermaid charts.
 */
export function imageSource(event: CiEvent, env: NodeJS.ProcessEnv, cwd: string, metricsDir: string): ImageUrl {
  if (env.REPORT_IMAGE_BASE_URL) return baseImageUrl(env.REPORT_IMAGE_BASE_URL);
  if (!onCommit(event)) return null;
  return commitImageUrl(env, commentSha(event, env) ?? '', repoRelativeDir(cwd, metricsDir));
}

/** The comment for this run, from metrics/ (and the base's evaluate.json). */
export async function buildComment(event: CiEvent, env: NodeJS.ProcessEnv, cwd: string, run: Runner): Promise<string> {
  const dir = resolve(cwd, env.METRICS_DIR ?? 'metrics');
  const evaluate = await readMetrics('evaluate', { dir: dir });
  if (!evaluate)
    throw new Error(
      `${locateMetricsFile('evaluate', { dir: dir }).file} not found: run the pipeline (npm run pipeline:start) before publishing its report`,
    );
  const current = summarizeEvaluate(evaluate);
  const register = await readMetrics('register', { dir: dir });
  const drift = await readMetrics('dataDrift', { dir: dir });
  let report: string | null = null;
  try {
    report = await readFile(join(dir, 'report.md'), 'utf8');
  } catch {
    /* the headline stands alone */
  }
  const { src, label } = baseFor(event, env, cwd, run);
  const base = await readBaseEvaluate(src);
  const ci = { ...(current.confusion ? bootstrapConfusionCI(current.confusion) : {}), ...(current.ci ?? {}) };
  const images = imageSource(event, env, cwd, dir);
  const data = await loadChartData(dir);
  const more = data.features.length - MAX_FEATURE_CHARTS;
  // Another number of test rows is another test set (a PR run ingests afresh, a base grew its
  // data): the bootstrap interval of this run's rows says nothing about that difference.
  const otherRows = base && base.rows !== null && current.rows !== null && base.rows !== current.rows;
  const vsBase = diffMetrics(current, base?.test ?? null, ci).map((r) => (otherRows ? { ...r, beyondNoise: null } : r));
  // A pull request's run has no registry (no secrets): production as the base branch recorded it.
  const fromBase =
    !register?.production_before && event.kind === 'pull_request' ? await readBaseProduction(src, base) : null;
  const vsProduction = fromBase
    ? diffMetrics(current, fromBase.metrics, ci).map((r) => (otherRows ? { ...r, beyondNoise: null } : r))
    : diffMetrics(current, register?.production_before?.metrics ?? null, ci);
  return composeComment({
    context: describe(event, env),
    pushesTags: onCommit(event),
    baseLabel: label,
    baseRowsDiffer: otherRows ? { base: base.rows!, current: current.rows! } : null,
    vsBase,
    vsProduction,
    productionFromBase: fromBase ? { version: fromBase.version, label: label ?? 'the base' } : null,
    register,
    drift,
    reportMarkdown: report,
    images,
    charts: chartSections(data, drift, images),
    chartNotes:
      more > 0
        ? [
            `_Feature charts for the ${MAX_FEATURE_CHARTS} largest train/test shifts; ${more} more in the full report below._`,
          ]
        : [],
    footer: cmlWatermark(watermarkLabel(env), watermarkSha(event, env)),
  });
}

/** A handed-over comment (untrusted text) posted with our marker first and our watermark last. */
function handedBody(handed: string, event: CiEvent, env: NodeJS.ProcessEnv): string {
  const label = watermarkLabel(env);
  const watermark = cmlWatermark(label, watermarkSha(event, env));
  const text = (handed.startsWith(MARKER) ? handed : `${MARKER}\n${handed}`).replace(ANY_CML_WATERMARK, '').trimEnd();
  const footer = `\n\n${watermark}\n`;
  return truncateMarkdown(text, GITHUB_COMMENT_LIMIT - footer.length, '_Comment truncated._') + footer;
}

export interface PublishOutcome {
  event: CiEvent;
  body: string;
  results: Record<string, PublishResult | string>;
}

export async function publishReport(
  env: NodeJS.ProcessEnv,
  cwd: string,
  run: Runner = execRunner,
  print: (line: string) => void = console.log,
): Promise<PublishOutcome> {
  const event = await readEvent(env);
  const commentFile = resolve(cwd, env.REPORT_COMMENT_FILE ?? 'pr-comment.md');
  const numberFile = join(resolve(commentFile, '..'), 'pr-number.txt');
  let body: string;
  let prNumber: number | null = null;
  if (event.kind === 'workflow_run') {
    // The trusted job posts what the untrusted run composed; it never runs the fork's code.
    const handed = await readFile(commentFile, 'utf8').catch(() => null);
    body = handed ? handedBody(handed, event, env) : await buildComment(event, env, cwd, run);
    const fromFile = await readFile(numberFile, 'utf8').catch(() => '');
    prNumber = event.prNumber ?? (/^\s*[1-9][0-9]*\s*$/.test(fromFile) ? Number(fromFile) : null);
    if (prNumber === null)
      throw new Error(
        'workflow_run: no PR number (GitHub omits pull_requests for forks): download the pr-number.txt artifact next to pr-comment.md, or set PR_NUMBER',
      );
  } else {
    body = await buildComment(event, env, cwd, run);
    if (event.kind === 'pull_request') {
      prNumber = event.number;
      await writeFile(commentFile, body);
      await writeFile(numberFile, `${event.number}\n`);
    }
  }
  print(
    `event: ${describe(event.kind === 'workflow_run' ? { ...event, prNumber } : event, env)}; comment: ${body.length.toLocaleString('en-US')} characters`,
  );

  const results: PublishOutcome['results'] = {};
  results.summary = (await writeJobSummary(body.replace(ANY_CML_WATERMARK, '').trimEnd(), env))
    ? 'written'
    : 'skipped (no GITHUB_STEP_SUMMARY)';
  if (env.REPORT_DRY_RUN === '1' || env.REPORT_DRY_RUN === 'true') {
    results.github = 'dry run: nothing posted';
  } else {
    const octokit = makeOctokit(env.GITHUB_TOKEN ?? '', env.GITHUB_API_URL);
    const repo = parseRepository(env.GITHUB_REPOSITORY);
    // Ours, or a comment `cml comment create --watermark-title=<same label>` made: one comment, not two.
    const label = watermarkLabel(env);
    const marker = (text: string) => text.includes(MARKER) || hasCmlWatermark(text, label);
    const botLogin = env.REPORT_BOT_LOGIN || undefined;
    if (prNumber !== null) {
      results.pr = await upsertStickyComment(octokit, { ...repo, issueNumber: prNumber, body, marker, botLogin });
    } else {
      const sha = commentSha(event, env);
      if (!sha) throw new Error(`${event.kind}: no commit to comment on: set GITHUB_SHA or REPORT_SHA`);
      results.commit = await upsertCommitComment(octokit, { ...repo, sha, body, marker, botLogin });
      // Only pull requests have a relay (the workflow_run job); a commit comment refused here is lost.
      if (results.commit.status === 'read-only') {
        throw new Error(
          `${event.kind}: the token cannot comment on commit ${sha.slice(0, 12)} (403): give the job \`permissions: contents: write\` (commit comments need it; no workflow_run job relays a ${event.kind} report)`,
        );
      }
    }
  }
  for (const [where, r] of Object.entries(results)) {
    const text = typeof r === 'string' ? r : r.status === 'read-only' ? r.message : `${r.status} ${r.url}`;
    print(`${where}: ${text}`);
    if (where !== 'summary' && typeof r !== 'string' && r.status === 'read-only')
      print(`comment saved to ${commentFile} (+ ${numberFile}) for the workflow_run job`);
  }
  if (env.GITHUB_OUTPUT && env.GITHUB_OUTPUT === process.env.GITHUB_OUTPUT) {
    const main = results.pr ?? results.commit;
    core.setOutput('result', typeof main === 'object' ? main.status : 'none');
    core.setOutput('comment_url', typeof main === 'object' && main.status !== 'read-only' ? main.url : '');
  }
  return { event, body, results };
}

const USAGE = `usage: npm run gh:publish-report
  compose the training-report comment from metrics/ and post it where the event's readers look:
  a commit comment (push, schedule, dispatch), one sticky PR comment (pull_request, workflow_run),
  and always the job summary
env: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_SHA (set by Actions);
  METRICS_DIR, BASE_METRICS_DIR + BASE_LABEL, REPORT_IMAGE_BASE_URL, REPORT_SHA, PR_NUMBER,
  REPORT_COMMENT_FILE, REPORT_DRY_RUN=1, … (see .github/scripts/README.md)
exit: 0 published, 1 failed, 2 usage error`;

if (isMain(import.meta.url)) {
  await defineCli({ name: 'gh:publish-report', usage: USAGE }, async (_args, io) => {
    await publishReport(process.env, process.cwd(), execRunner, (line) => io.stdout(line + '\n'));
  }).main();
}
