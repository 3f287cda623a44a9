/**
 * GITHUB_TOKEN permissions as GitHub computes them for a job: the job's `permissions:` replaces
 * the workflow's; `read-all` / `write-all` set every scope; a mapping sets the scopes it names and
 * leaves every other scope at none (`permissions: {}` = none at all); with no `permissions:`
 * anywhere the repository's default applies — here the restricted default of a repository whose
 * "Workflow permissions" setting is read-only (contents: read, packages: read). `metadata: read`
 * is always granted. A pull request from a fork gets every write downgraded to read and no OIDC
 * token (`id-token`). Docs: "Controlling permissions for GITHUB_TOKEN", "Permissions for the
 * GITHUB_TOKEN".
 */
import { toText, type Json } from './expr.ts';

export const SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
] as const;
export type Scope = (typeof SCOPES)[number] | 'metadata';
export type Level = 'none' | 'read' | 'write';
export type Permissions = Record<Scope, Level>;

const RANK: Record<Level, number> = { none: 0, read: 1, write: 2 };

function all(level: Level): Permissions {
  return { ...(Object.fromEntries(SCOPES.map((s) => [s, level])) as Permissions), metadata: 'read' };
}

/** The restricted default (repository setting "Read repository contents and packages permissions"). */
export const RESTRICTED_DEFAULT: Permissions = { ...all('none'), contents: 'read', packages: 'read' };

/**
 * The token's permissions for a job: `declared` is the job's evaluated `permissions:` if it has
 * one, else the workflow's, else undefined (the repository default).
 */
export function tokenPermissions(declared: Json | undefined, opts: { fork: boolean }): Permissions {
  let p: Permissions;
  if (declared === undefined || declared === null) p = { ...RESTRICTED_DEFAULT };
  else if (declared === 'read-all') p = all('read');
  else if (declared === 'write-all') p = all('write');
  else if (typeof declared === 'object' && !Array.isArray(declared)) {
    p = all('none');
    for (const [k, v] of Object.entries(declared)) {
      if (!(SCOPES as readonly string[]).includes(k))
        throw new Error(`permissions: "${k}" is not a GITHUB_TOKEN scope (${SCOPES.join(', ')})`);
      const level = toText(v);
      if (level !== 'none' && level !== 'read' && level !== 'write')
        throw new Error(`permissions: ${k}: "${level}" is not read, write or none`);
      p[k as Scope] = level;
    }
  } else throw new Error(`permissions: ${JSON.stringify(declared)} is not read-all, write-all or a mapping`);
  p.metadata = 'read';
  if (opts.fork) {
    for (const s of SCOPES) if (p[s] === 'write') p[s] = 'read';
    p['id-token'] = 'none';
  }
  return p;
}

export function allows(p: Permissions | undefined, scope: Scope, level: 'read' | 'write'): boolean {
  return !!p && RANK[p[scope]] >= RANK[level];
}

/** `contents: read, id-token: write` (scopes at none and metadata left out). */
export function describePermissions(p: Permissions): string {
  const granted = Object.entries(p).filter(([k, v]) => v !== 'none' && k !== 'metadata');
  return granted.length ? granted.map(([k, v]) => `${k}: ${v}`).join(', ') : 'none';
}
