/**
 * A loopback stand-in for the slice of GitHub's REST API the scripts and workflows use, answering
 * with the same status codes, shapes and `Link` pagination headers, and recording every call.
 * Listens on 127.0.0.1 only.
 *
 * Tokens: `grant(token, permissions)` registers an installation token (a job's GITHUB_TOKEN) with
 * its scopes; every request with it is checked against the scope its endpoint needs (ROUTES: issue
 * comments need issues — or pull-requests on a pull request —, pull requests pull-requests, commit
 * comments, git refs and contents contents, artifacts and runs actions, statuses statuses, packages
 * packages; GET needs read, anything else write) and refused as GitHub refuses it: 403 "Resource
 * not accessible by integration" with the `x-accepted-github-permissions` header. `revoke` ends a
 * token (GitHub expires a job's token when the job ends). With `strict`, a request without a
 * granted token is 401 (no token, an empty secret, a revoked token); without it (unit tests that
 * use any token string), such a request has every scope and `readOnly` answers writes the way
 * GitHub answers a fork PR's token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  auth: string | null;
  status?: number;
}
export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: string };
  html_url: string;
  created_at: string;
  updated_at: string;
  commit_id?: string;
}

/** A token's scopes, as GitHub names them (`contents`, `pull-requests`, …) → none | read | write. */
export type TokenPermissions = Record<string, 'none' | 'read' | 'write'>;
/** A request GitHub refused for want of a scope. */
export interface Denial {
  method: string;
  path: string;
  /** Scopes any one of which (at `level`) would have done. */
  needs: string[];
  level: 'read' | 'write';
  token: string;
  /** Who holds the token (e.g. `train.yml job publish`). */
  holder: string;
  had: TokenPermissions;
}

export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  /** Issue/PR comments by `owner/repo#number`. */
  issueComments: Map<string, FakeComment[]>;
  commitComments: FakeComment[];
  /** Pull requests by `owner/repo#number` (GET /repos/{repo}/pulls/{n}). */
  pulls: Map<string, { number: number; head: { sha: string; ref: string }; base: { ref: string } }>;
  /** Commit statuses by sha. */
  statuses: Map<string, { state: string; context: string; description?: string; target_url?: string }[]>;
  readOnly: boolean;
  /** 401 for a request without a granted token. */
  strict: boolean;
  /** Login that writes are attributed to (GITHUB_TOKEN acts as github-actions[bot]). */
  actor: string;
  denials: Denial[];
  /** Artifacts of a workflow run (GET /repos/{repo}/actions/runs/{id}/artifacts), when the host keeps them. */
  listArtifacts?: (runId: number) => { id: number; name: string; size_in_bytes: number }[];
  /** Git refs of the repository (GET …/git/ref/…, POST …/git/refs), when the host has a git origin. */
  gitRefs?: { get(ref: string): string | null; create(ref: string, sha: string): void };
  grant(token: string, permissions: TokenPermissions, holder?: string): void;
  revoke(token: string): void;
  seedIssueComments(repo: string, issue: number, comments: { body: string; login?: string }[]): FakeComment[];
  seedCommitComments(repo: string, sha: string, comments: { body: string; login?: string }[]): FakeComment[];
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const notAccessible = (doc: string) => ({
  message: 'Resource not accessible by integration',
  documentation_url: `${DOCS}/${doc}`,
  status: '403',
});

/** What an endpoint needs: any one of `scopes` at `level` (GET: read, else write). */
interface Need {
  scopes: string[];
  doc: string;
}
type Fake = Pick<FakeGitHub, 'pulls' | 'issueComments'>;
const isPull = (f: Fake, repo: string, n: string) => f.pulls.has(`${repo}#${n}`);
const commentOnPull = (f: Fake, repo: string, id: string) =>
  [...f.issueComments.entries()].some(
    ([key, list]) =>
      key.startsWith(`${repo}#`) && isPull(f, repo, key.split('#')[1]) && list.some((c) => String(c.id) === id),
  );

/**
 * Endpoint → scope, from GitHub's "Permissions required for GitHub Apps" (fine-grained
 * permissions of each REST endpoint). Issue endpoints on a pull request accept pull-requests too.
 */
export const ROUTES: { path: RegExp; need: (m: RegExpExecArray, f: Fake) => Need }[] = [
  {
    path: /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)(\/comments|\/labels|\/assignees)?$/,
    need: (m, f) => ({
      scopes: isPull(f, m[1], m[2]) ? ['issues', 'pull-requests'] : ['issues'],
      doc: 'issues/comments',
    }),
  },
  {
    path: /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/,
    need: (m, f) => ({
      scopes: commentOnPull(f, m[1], m[2]) ? ['issues', 'pull-requests'] : ['issues'],
      doc: 'issues/comments#update-an-issue-comment',
    }),
  },
  {
    path: /^\/repos\/[^/]+\/[^/]+\/(issues|labels|milestones)(\/.*)?$/,
    need: () => ({ scopes: ['issues'], doc: 'issues' }),
  },
  { path: /^\/repos\/[^/]+\/[^/]+\/pulls(\/.*)?$/, need: () => ({ scopes: ['pull-requests'], doc: 'pulls' }) },
  {
    path: /^\/repos\/[^/]+\/[^/]+\/(commits\/[^/]+\/comments|comments(\/\d+)?)$/,
    need: () => ({ scopes: ['contents'], doc: 'commits/comments' }),
  },
  {
    path: /^\/repos\/[^/]+\/[^/]+\/(statuses\/[^/]+|commits\/[^/]+\/status(es)?)$/,
    need: () => ({ scopes: ['statuses'], doc: 'commits/statuses' }),
  },
  {
    path: /^\/repos\/[^/]+\/[^/]+\/(check-runs|check-suites|commits\/[^/]+\/check-(runs|suites))(\/.*)?$/,
    need: () => ({ scopes: ['checks'], doc: 'checks/runs' }),
  },
  { path: /^\/repos\/[^/]+\/[^/]+\/actions(\/.*)?$/, need: () => ({ scopes: ['actions'], doc: 'actions/artifacts' }) },
  {
    path: /^\/repos\/[^/]+\/[^/]+\/deployments(\/.*)?$/,
    need: () => ({ scopes: ['deployments'], doc: 'deployments' }),
  },
  {
    path: /^\/repos\/[^/]+\/[^/]+\/(git\/.*|contents(\/.*)?|releases(\/.*)?|tags|branches(\/.*)?|commits(\/[^/]+)?|compare\/.*|dispatches|merges)$/,
    need: () => ({ scopes: ['contents'], doc: 'git/refs' }),
  },
  {
    path: /^\/(orgs|users)\/[^/]+\/packages(\/.*)?$|^\/user\/packages(\/.*)?$/,
    need: () => ({ scopes: ['packages'], doc: 'packages/packages' }),
  },
  { path: /^\/repos\/[^/]+\/[^/]+$/, need: () => ({ scopes: ['metadata'], doc: 'repos/repos#get-a-repository' }) },
];

export function requiredScopes(method: string, path: string, f: Fake): (Need & { level: 'read' | 'write' }) | null {
  for (const r of ROUTES) {
    const m = r.path.exec(path);
    if (m) return { ...r.need(m, f), level: method === 'GET' || method === 'HEAD' ? 'read' : 'write' };
  }
  return null;
}

const RANK = { none: 0, read: 1, write: 2 } as const;

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : null;
}

export async function startFakeGitHub(
  opts: { readOnly?: boolean; actor?: string; strict?: boolean } = {},
): Promise<FakeGitHub> {
  let nextId = 1000;
  const now = () => new Date().toISOString();
  const tokens = new Map<string, { permissions: TokenPermissions; holder: string }>();
  const fake = {
    url: '',
    calls: [] as RecordedCall[],
    issueComments: new Map<string, FakeComment[]>(),
    commitComments: [] as FakeComment[],
    pulls: new Map<string, { number: number; head: { sha: string; ref: string }; base: { ref: string } }>(),
    statuses: new Map<string, { state: string; context: string; description?: string; target_url?: string }[]>(),
    readOnly: opts.readOnly ?? false,
    strict: opts.strict ?? false,
    actor: opts.actor ?? 'github-actions[bot]',
    denials: [] as Denial[],
    listArtifacts: undefined as FakeGitHub['listArtifacts'],
    gitRefs: undefined as FakeGitHub['gitRefs'],
  };
  const make = (repo: string, body: string, login: string, anchor: string): FakeComment => {
    const id = nextId++;
    const t = now();
    return {
      id,
      body,
      user: { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' },
      html_url: `https://github.com/${repo}/${anchor}#issuecomment-${id}`,
      created_at: t,
      updated_at: t,
    };
  };

  const callOf = new WeakMap<ServerResponse, RecordedCall>();
  const send = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
    const call = callOf.get(res);
    if (call) call.status = status;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(value));
  };
  const notFound = (res: ServerResponse) =>
    send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });

  /** 401/403 as GitHub answers them, or null when the token may make this call. */
  const refusal = (
    method: string,
    path: string,
    auth: string | null,
  ): { status: number; body: unknown; headers?: Record<string, string> } | null => {
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(auth ?? '')?.[1] ?? '';
    const granted = tokens.get(token);
    if (!granted) {
      if (fake.strict)
        return {
          status: 401,
          body: {
            message: token ? 'Bad credentials' : 'Requires authentication',
            documentation_url: DOCS,
            status: '401',
          },
        };
      return method !== 'GET' && fake.readOnly
        ? { status: 403, body: notAccessible('issues/comments#create-an-issue-comment') }
        : null;
    }
    const need = requiredScopes(method, path, fake);
    if (!need) return null;
    const ok = need.scopes.some((s) => RANK[granted.permissions[s] ?? 'none'] >= RANK[need.level]);
    if (ok) return null;
    fake.denials.push({
      method,
      path,
      needs: need.scopes,
      level: need.level,
      token,
      holder: granted.holder,
      had: granted.permissions,
    });
    return {
      status: 403,
      body: notAccessible(need.doc),
      headers: {
        'x-accepted-github-permissions': need.scopes.map((s) => `${s.replace(/-/g, '_')}=${need.level}`).join('; '),
      },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', fake.url);
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    const call: RecordedCall = {
      method,
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      body,
      auth: req.headers.authorization ?? null,
    };
    fake.calls.push(call);
    callOf.set(res, call);
    const refused = refusal(method, u.pathname, req.headers.authorization ?? null);
    if (refused) return send(res, refused.status, refused.body, refused.headers);

    let m = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(u.pathname);
    if (m) {
      const key = `${m[1]}#${m[2]}`;
      const list = fake.issueComments.get(key) ?? [];
      if (method === 'GET') {
        const perPage = Math.min(100, Number(u.searchParams.get('per_page') ?? 30));
        const page = Math.max(1, Number(u.searchParams.get('page') ?? 1));
        const last = Math.max(1, Math.ceil(list.length / perPage));
        const link = (p: number, rel: string) =>
          `<${fake.url}${u.pathname}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
        const links = [];
        if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
        if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
        return send(
          res,
          200,
          list.slice((page - 1) * perPage, page * perPage),
          links.length ? { link: links.join(', ') } : {},
        );
      }
      if (method === 'POST') {
        const c = make(m[1], String((body as { body?: string } | null)?.body ?? ''), fake.actor, `pull/${m[2]}`);
        fake.issueComments.set(key, [...list, c]);
        return send(res, 201, c);
      }
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(u.pathname);
    if (m && method === 'PATCH') {
      for (const list of fake.issueComments.values()) {
        const c = list.find((x) => x.id === Number(m![2]));
        if (!c) continue;
        if (c.user.login !== fake.actor)
          return send(res, 403, { message: 'You must be the author of this comment to edit it', status: '403' });
        c.body = String((body as { body?: string } | null)?.body ?? '');
        c.updated_at = now();
        return send(res, 200, c);
      }
      return send(res, 404, { message: 'Not Found', status: '404' });
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/pulls\/(\d+)$/.exec(u.pathname);
    if (m && method === 'GET') {
      const pr = fake.pulls.get(`${m[1]}#${m[2]}`);
      return pr ? send(res, 200, pr) : send(res, 404, { message: 'Not Found', status: '404' });
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/commits\/([0-9a-f]+)\/comments$/.exec(u.pathname);
    if (m && method === 'GET') {
      const sha = m[2];
      return send(
        res,
        200,
        fake.commitComments.filter((c) => c.commit_id === sha),
      );
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/comments\/(\d+)$/.exec(u.pathname);
    if (m && method === 'PATCH') {
      const c = fake.commitComments.find((x) => x.id === Number(m![2]));
      if (!c) return send(res, 404, { message: 'Not Found', status: '404' });
      if (c.user.login !== fake.actor)
        return send(res, 403, { message: 'You must be the author of this comment to edit it', status: '403' });
      c.body = String((body as { body?: string } | null)?.body ?? '');
      c.updated_at = now();
      return send(res, 200, c);
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/commits\/([0-9a-f]+)\/comments$/.exec(u.pathname);
    if (m && method === 'POST') {
      const c = {
        ...make(m[1], String((body as { body?: string } | null)?.body ?? ''), fake.actor, `commit/${m[2]}`),
        commit_id: m[2],
      };
      fake.commitComments.push(c);
      return send(res, 201, c);
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/statuses\/([0-9a-f]{40})$/.exec(u.pathname);
    if (m && method === 'POST') {
      const b = (body ?? {}) as { state?: string; context?: string; description?: string; target_url?: string };
      if (!['error', 'failure', 'pending', 'success'].includes(String(b.state)))
        return send(res, 422, { message: 'Validation Failed', status: '422' });
      const status = {
        state: String(b.state),
        context: b.context ?? 'default',
        description: b.description,
        target_url: b.target_url,
      };
      fake.statuses.set(m[2], [...(fake.statuses.get(m[2]) ?? []), status]);
      return send(res, 201, { id: nextId++, ...status });
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/commits\/([0-9a-f]{40})\/statuses$/.exec(u.pathname);
    if (m && method === 'GET') return send(res, 200, [...(fake.statuses.get(m[2]) ?? [])].reverse());
    m = /^\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/artifacts$/.exec(u.pathname);
    if (m && method === 'GET' && fake.listArtifacts) {
      const name = u.searchParams.get('name');
      const artifacts = fake.listArtifacts(Number(m[2])).filter((a) => !name || a.name === name);
      return send(res, 200, { total_count: artifacts.length, artifacts });
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/git\/ref\/(.+)$/.exec(u.pathname);
    if (m && method === 'GET' && fake.gitRefs) {
      const sha = fake.gitRefs.get(`refs/${m[2]}`);
      return sha ? send(res, 200, { ref: `refs/${m[2]}`, object: { sha, type: 'commit' } }) : notFound(res);
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/git\/refs$/.exec(u.pathname);
    if (m && method === 'POST' && fake.gitRefs) {
      const b = (body ?? {}) as { ref?: string; sha?: string };
      if (!b.ref?.startsWith('refs/') || !b.sha) return send(res, 422, { message: 'Invalid request', status: '422' });
      if (fake.gitRefs.get(b.ref)) return send(res, 422, { message: 'Reference already exists', status: '422' });
      fake.gitRefs.create(b.ref, b.sha);
      return send(res, 201, { ref: b.ref, object: { sha: b.sha, type: 'commit' } });
    }
    m = /^\/(orgs|users)\/[^/]+\/packages$|^\/user\/packages$/.exec(u.pathname);
    if (m && method === 'GET') return send(res, 200, []);
    notFound(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(fake, {
    grant(token: string, permissions: TokenPermissions, holder = 'a job') {
      tokens.set(token, { permissions, holder });
    },
    revoke(token: string) {
      tokens.delete(token);
    },
    seedIssueComments(repo: string, issue: number, comments: { body: string; login?: string }[]) {
      const made = comments.map((c) => make(repo, c.body, c.login ?? 'someone', `pull/${issue}`));
      fake.issueComments.set(`${repo}#${issue}`, [...(fake.issueComments.get(`${repo}#${issue}`) ?? []), ...made]);
      return made;
    },
    seedCommitComments(repo: string, sha: string, comments: { body: string; login?: string }[]) {
      const made = comments.map((c) => ({
        ...make(repo, c.body, c.login ?? 'someone', `commit/${sha}`),
        commit_id: sha,
      }));
      fake.commitComments.push(...made);
      return made;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  });
}
