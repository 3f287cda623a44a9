/**
 * A loopback stand-in for the slice of GitHub's REST API the scripts use, answering with the
 * same status codes, shapes and `Link` pagination headers, and recording every call. Listens on
 * 127.0.0.1 only. `readOnly` answers writes the way GitHub answers a fork PR's token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  auth: string | null;
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

export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  /** Issue/PR comments by `owner/repo#number`. */
  issueComments: Map<string, FakeComment[]>;
  commitComments: FakeComment[];
  /** Pull requests by `owner/repo#number` (GET /repos/{repo}/pulls/{n}). */
  pulls: Map<string, { number: number; head: { sha: string; ref: string }; base: { ref: string } }>;
  readOnly: boolean;
  /** Login that writes are attributed to (GITHUB_TOKEN acts as github-actions[bot]). */
  actor: string;
  seedIssueComments(repo: string, issue: number, comments: { body: string; login?: string }[]): FakeComment[];
  seedCommitComments(repo: string, sha: string, comments: { body: string; login?: string }[]): FakeComment[];
  close(): Promise<void>;
}

const READ_ONLY = {
  message: 'Resource not accessible by integration',
  documentation_url: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
  status: '403',
};

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : null;
}

export async function startFakeGitHub(opts: { readOnly?: boolean; actor?: string } = {}): Promise<FakeGitHub> {
  let nextId = 1000;
  const now = () => new Date().toISOString();
  const fake = {
    url: '',
    calls: [] as RecordedCall[],
    issueComments: new Map<string, FakeComment[]>(),
    commitComments: [] as FakeComment[],
    pulls: new Map<string, { number: number; head: { sha: string; ref: string }; base: { ref: string } }>(),
    readOnly: opts.readOnly ?? false,
    actor: opts.actor ?? 'github-actions[bot]',
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

  const send = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(value));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', fake.url);
    const body = await readBody(req);
    const method = req.method ?? 'GET';
    fake.calls.push({
      method,
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      body,
      auth: req.headers.authorization ?? null,
    });
    if (method !== 'GET' && fake.readOnly) return send(res, 403, READ_ONLY);

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
    send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return Object.assign(fake, {
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
