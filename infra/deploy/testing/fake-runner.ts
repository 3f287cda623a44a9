/** Test support: a DeployRunner that records every call and answers from scripted rules (no cluster). */
import { spawnSync } from 'node:child_process';
import type { DeployRunner, KubectlResult, HttpResult, PortForward, PromAnswer } from '../runner.ts';

const OK: KubectlResult = { code: 0, stdout: '', stderr: '' };

/** Records every call; answers come from scripted matchers (first match wins), defaulting to success. */
export class FakeRunner implements DeployRunner {
  calls: string[] = [];
  kubectlRules: [RegExp, KubectlResult][] = [];
  httpRules: [RegExp, HttpResult][] = [];
  promAnswers: (expr: string) => number | null | PromAnswer = () => 0;
  slept = 0;
  closed = 0;
  on(re: RegExp, r: Partial<KubectlResult>) {
    this.kubectlRules.push([re, { ...OK, ...r }]);
    return this;
  }
  stdin: string[] = [];
  /** Render `kubectl kustomize` with the real kubectl (offline) instead of answering it. */
  realKustomize = false;
  kubectl(args: string[], stdin?: string): Promise<KubectlResult> {
    const line = `kubectl ${args.join(' ')}`;
    this.calls.push(line);
    if (stdin !== undefined) this.stdin.push(stdin);
    if (this.realKustomize && args[0] === 'kustomize') {
      const r = spawnSync('kubectl', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
      return Promise.resolve({
        code: r.status ?? 1,
        stdout: r.stdout ?? '',
        stderr: r.stderr ?? String(r.error ?? ''),
      });
    }
    return Promise.resolve(this.kubectlRules.find(([re]) => re.test(line))?.[1] ?? OK);
  }
  http(method: string, url: string, body?: unknown): Promise<HttpResult> {
    const line = `${method} ${url}`;
    this.calls.push(body === undefined ? line : `${line} ${JSON.stringify(body)}`);
    return Promise.resolve(this.httpRules.find(([re]) => re.test(line))?.[1] ?? { status: 404, json: null });
  }
  promQuery(expr: string): Promise<PromAnswer> {
    this.calls.push(`promql ${expr}`);
    const v = this.promAnswers(expr);
    if (v === null) return Promise.resolve({ kind: 'no-data' });
    if (typeof v === 'object') return Promise.resolve(v);
    return Promise.resolve({ kind: 'value', value: v });
  }
  portForward(ns: string, target: string, port: number): Promise<PortForward> {
    this.calls.push(`port-forward ${ns} ${target} ${port}`);
    return Promise.resolve({
      baseUrl: 'http://pf',
      close: () => {
        this.closed++;
        return Promise.resolve();
      },
    });
  }
  sleep(ms: number): Promise<void> {
    this.slept += ms;
    return Promise.resolve();
  }
  log() {}
  kube(re: RegExp) {
    return this.calls.filter((c) => c.startsWith('kubectl') && re.test(c));
  }
}
