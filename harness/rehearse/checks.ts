/**
 * Static checks over a workflow's jobs that the rehearsal would otherwise only show as a later
 * failure. `checkoutOrderProblems`: in every job, actions/checkout comes before any step that
 * writes into the workspace — checkout empties a workspace without `.git` (and cleans untracked
 * files in one with it), so whatever an earlier step put there (auth's credentials file,
 * get-gke-credentials' kubeconfig, downloaded artifacts, files a script wrote) is gone.
 */
import { parse } from 'yaml';
import { WRITES_WORKSPACE } from './actions/index.ts';

interface RawStep {
  name?: string;
  uses?: string;
  run?: string;
}

/** A run: step that only prints or exits (e.g. a guard) does not write into the workspace. */
export function runOnlyPrints(script: string): boolean {
  return script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .every((l) => /^(echo|printf|exit)\b[^>]*$/.test(l));
}

export function checkoutOrderProblems(source: string, file = 'workflow'): string[] {
  const wf = parse(source) as { jobs?: Record<string, { steps?: RawStep[] }> };
  const problems: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs ?? {})) {
    const steps = job.steps ?? [];
    const checkoutAt = steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
    if (checkoutAt < 0) continue;
    steps.slice(0, checkoutAt).forEach((s, i) => {
      const action = s.uses?.split('@')[0];
      const writes = action ? WRITES_WORKSPACE.has(action) : s.run !== undefined && !runOnlyPrints(s.run);
      if (writes)
        problems.push(
          `${file} job ${id}: step ${i + 1} "${s.name ?? s.uses ?? s.run?.split('\n')[0]}" writes into the workspace before actions/checkout (step ${checkoutAt + 1}), which deletes it`,
        );
    });
  }
  return problems;
}
