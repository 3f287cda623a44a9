/**
 * `runs-on`: which runner would take a job. GitHub-hosted runners answer to their image labels
 * (docs "GitHub-hosted runners": ubuntu-latest, ubuntu-24.04, ubuntu-22.04, the -arm images,
 * windows-*, macos-*); self-hosted runners to `self-hosted`, their OS and architecture and the
 * labels their owner gave them (the repository's runners, declared to the rehearsal). A job whose
 * labels no runner has is never picked up: GitHub leaves it queued (and fails it after 24 h), so
 * here it is an error. Retired images are errors too: GitHub no longer runs them.
 */
import { toText, type Json } from './expr.ts';

interface Hosted {
  os: 'Linux' | 'Windows' | 'macOS';
  arch: 'X64' | 'ARM64';
  /** ImageOS as the hosted image sets it. */
  image: string;
}

export const HOSTED: Record<string, Hosted> = {
  'ubuntu-latest': { os: 'Linux', arch: 'X64', image: 'ubuntu24' },
  'ubuntu-24.04': { os: 'Linux', arch: 'X64', image: 'ubuntu24' },
  'ubuntu-22.04': { os: 'Linux', arch: 'X64', image: 'ubuntu22' },
  'ubuntu-slim': { os: 'Linux', arch: 'X64', image: 'ubuntu24' },
  'ubuntu-24.04-arm': { os: 'Linux', arch: 'ARM64', image: 'ubuntu24' },
  'ubuntu-22.04-arm': { os: 'Linux', arch: 'ARM64', image: 'ubuntu22' },
  'windows-latest': { os: 'Windows', arch: 'X64', image: 'win25' },
  'windows-2025': { os: 'Windows', arch: 'X64', image: 'win25' },
  'windows-2022': { os: 'Windows', arch: 'X64', image: 'win22' },
  'windows-11-arm': { os: 'Windows', arch: 'ARM64', image: 'win11-arm' },
  'macos-latest': { os: 'macOS', arch: 'ARM64', image: 'macos15' },
  'macos-26': { os: 'macOS', arch: 'ARM64', image: 'macos26' },
  'macos-15': { os: 'macOS', arch: 'ARM64', image: 'macos15' },
  'macos-14': { os: 'macOS', arch: 'ARM64', image: 'macos14' },
  'macos-15-intel': { os: 'macOS', arch: 'X64', image: 'macos15' },
  'macos-latest-large': { os: 'macOS', arch: 'X64', image: 'macos15' },
  'macos-15-large': { os: 'macOS', arch: 'X64', image: 'macos15' },
  'macos-14-large': { os: 'macOS', arch: 'X64', image: 'macos14' },
  'macos-latest-xlarge': { os: 'macOS', arch: 'ARM64', image: 'macos15' },
  'macos-15-xlarge': { os: 'macOS', arch: 'ARM64', image: 'macos15' },
  'macos-14-xlarge': { os: 'macOS', arch: 'ARM64', image: 'macos14' },
};

/** Images GitHub has retired: a job asking for one is never run. */
export const RETIRED: Record<string, string> = {
  'ubuntu-16.04': '2021-09',
  'ubuntu-18.04': '2023-04',
  'ubuntu-20.04': '2025-04',
  'windows-2016': '2022-03',
  'windows-2019': '2025-06',
  'macos-10.15': '2022-12',
  'macos-11': '2024-06',
  'macos-12': '2024-12',
  'macos-13': '2025-12',
  'macos-13-large': '2025-12',
  'macos-13-xlarge': '2025-12',
};

/** A self-hosted runner (or runner group) the repository has: its labels. */
export interface SelfHostedRunner {
  labels: string[];
  group?: string;
}

export interface RunnerChoice {
  os: Hosted['os'];
  arch: Hosted['arch'];
  image: string;
  environment: 'github-hosted' | 'self-hosted';
  labels: string[];
}

/** The runner that takes a job with this (evaluated) `runs-on`, or throws why none would. */
export function pickRunner(runsOn: Json, selfHosted: SelfHostedRunner[] = []): RunnerChoice {
  let labels: string[];
  let group: string | undefined;
  if (typeof runsOn === 'string') labels = [runsOn];
  else if (Array.isArray(runsOn)) labels = runsOn.map(toText);
  else if (runsOn && typeof runsOn === 'object') {
    group = runsOn.group === undefined ? undefined : toText(runsOn.group);
    const l = runsOn.labels;
    labels = l === undefined || l === null ? [] : Array.isArray(l) ? l.map(toText) : [toText(l)];
  } else throw new Error(`runs-on is ${JSON.stringify(runsOn)}: a job needs a runner label`);
  labels = labels.map((l) => l.trim());
  if (labels.some((l) => !l) || (!labels.length && !group))
    throw new Error(`runs-on ${JSON.stringify(runsOn)} has an empty label: no runner would pick the job up`);
  for (const l of labels)
    if (RETIRED[l.toLowerCase()])
      throw new Error(
        `runs-on: ${l} is a retired GitHub-hosted image (since ${RETIRED[l.toLowerCase()]}): the job would never start`,
      );
  // Labels match case-insensitively. GitHub-hosted: one image label (no group).
  const lower = labels.map((l) => l.toLowerCase());
  if (!group && lower.length === 1 && HOSTED[lower[0]])
    return { ...HOSTED[lower[0]], environment: 'github-hosted', labels };
  const runner = selfHosted.find(
    (r) => (!group || r.group === group) && lower.every((l) => r.labels.map((x) => x.toLowerCase()).includes(l)),
  );
  if (runner) {
    const has = (l: string) => runner.labels.map((x) => x.toLowerCase()).includes(l);
    return {
      os: has('windows') ? 'Windows' : has('macos') ? 'macOS' : 'Linux',
      arch: has('arm64') ? 'ARM64' : 'X64',
      image: 'self-hosted',
      environment: 'self-hosted',
      labels,
    };
  }
  const hostedHint = lower.find((l) => HOSTED[l])
    ? ` (a GitHub-hosted image label must stand alone: ${labels.find((l) => HOSTED[l.toLowerCase()])})`
    : '';
  const known = Object.keys(HOSTED).filter((l) => !/large/.test(l));
  throw new Error(
    `runs-on ${JSON.stringify(runsOn)}: no runner has ${group ? `group ${group} with ` : ''}the label${labels.length > 1 ? 's' : ''} ${labels.join(', ')}${hostedHint}; GitHub would leave the job queued until it fails after 24 h. GitHub-hosted: ${known.join(', ')}; self-hosted here: ${selfHosted.length ? selfHosted.map((r) => `[${r.labels.join(', ')}]`).join(' ') : 'none'}`,
  );
}
