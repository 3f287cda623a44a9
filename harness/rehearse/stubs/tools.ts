/**
 * terraform (init/plan/apply over the synthesized cdk.tf.json, the google provider needs
 * credentials, the state lock needs object create on the state bucket), gh (`gh api <path> [--jq .a.b]` against the loopback GitHub, needs GH_TOKEN), dvc
 * (remote add --local, pull, push through this project's own DVC implementation, gs:// remotes
 * mapped to stand-in bucket directories, needs Google credentials), and the installers npm ci /
 * pip install (nothing downloads here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Exit, fail, gcsDir, googleCredentials, ok } from './state.ts';
import { TSX } from './install.ts';
import type { Json } from '../expr.ts';

function tfResources(): number {
  const file = resolve('cdk.tf.json');
  if (!existsSync(file)) throw fail('Error: No configuration files (no cdk.tf.json here: run cdktf synth first)');
  const cfg = JSON.parse(readFileSync(file, 'utf8'));
  return Object.values((cfg.resource ?? {}) as Record<string, Record<string, unknown>>).reduce(
    (n, byName) => n + Object.keys(byName).length,
    0,
  );
}

/** Roles on a bucket that include storage.objects.create, which the GCS backend's lock object needs. */
const CREATES_OBJECTS =
  /^roles\/storage\.(admin|objectAdmin|objectUser|objectCreator|legacyBucketWriter|legacyBucketOwner)$/;

/**
 * The GCS backend writes `<prefix>/default.tflock` to take the state lock. An identity that the
 * synthesized stack grants only read roles on the state bucket (the planner) gets the 403 GCS
 * answers unless the command says -lock=false. Identities the stack does not know (a human's
 * credentials at bootstrap) are not judged.
 */
function stateLock(args: string[], credentials: string): void {
  if (args.includes('-lock=false')) return;
  const cfg = JSON.parse(readFileSync(resolve('cdk.tf.json'), 'utf8'));
  const backend = cfg.terraform?.backend?.gcs as { bucket: string; prefix?: string } | undefined;
  const email = /serviceAccounts\/([^:]+):generateAccessToken/.exec(
    String(JSON.parse(readFileSync(credentials, 'utf8')).service_account_impersonation_url ?? ''),
  )?.[1];
  if (!backend || !email) return;
  const accounts = Object.entries(
    (cfg.resource?.google_service_account ?? {}) as Record<string, { account_id: string }>,
  );
  const key = accounts.find(([, a]) => a.account_id === email.split('@')[0])?.[0];
  if (!key) return;
  const roles = Object.values(
    (cfg.resource?.google_storage_bucket_iam_member ?? {}) as Record<
      string,
      { bucket: string; role: string; member: string }
    >,
  )
    .filter((m) => m.bucket === backend.bucket && m.member.includes(`google_service_account.${key}.email`))
    .map((m) => m.role);
  if (roles.length === 0 || roles.some((r) => CREATES_OBJECTS.test(r))) return;
  throw fail(
    `Error: Error acquiring the state lock\n\nError message: writing "gs://${backend.bucket}/${backend.prefix ?? ''}/default.tflock" failed: ` +
      `googleapi: Error 403: ${email} does not have storage.objects.create access to the Google Cloud Storage object ` +
      `(the stack grants it ${roles.join(', ')} on the state bucket)., forbidden\n\n` +
      'Terraform acquires a state lock to protect the state from being written\nby multiple users at the same time. ' +
      'Please resolve the issue above and try again.\nFor most commands, you can disable locking with the "-lock=false"\n' +
      'flag, but this is not recommended.',
  );
}

export function terraform(args: string[]): never {
  const [verb] = args.filter((a) => !a.startsWith('-'));
  if (verb === 'version' || args[0] === '-version') throw ok('Terraform v1.9.0 (rehearsal stand-in)');
  const n = tfResources();
  if (verb === 'init') {
    googleCredentials(
      'Error: Failed to get existing workspaces: querying Cloud Storage failed: storage.NewClient() failed',
    );
    throw ok('Terraform has been successfully initialized!');
  }
  if (verb === 'plan') {
    stateLock(
      args,
      googleCredentials('Error: storage.NewClient() failed: dialing: google: could not find default credentials'),
    );
    if (args.some((a) => a.startsWith('-out=')))
      writeFileSync(resolve(args.find((a) => a.startsWith('-out='))!.slice(5)), 'rehearsal plan');
    // -detailed-exitcode: 2 = the plan has changes.
    throw new Exit(
      args.includes('-detailed-exitcode') ? 2 : 0,
      `Terraform will perform the following actions:\n\nPlan: ${n} to add, 0 to change, 0 to destroy.\n`,
    );
  }
  if (verb === 'apply') {
    stateLock(
      args,
      googleCredentials('Error: storage.NewClient() failed: dialing: google: could not find default credentials'),
    );
    const outputs = Object.keys(JSON.parse(readFileSync(resolve('cdk.tf.json'), 'utf8')).output ?? {});
    throw ok(
      `Apply complete! Resources: ${n} added, 0 changed, 0 destroyed.\n\nOutputs:\n\n${outputs.map((o) => `${o} = (known after apply)`).join('\n')}`,
    );
  }
  throw fail(`terraform ${args.join(' ')}: not a command the rehearsal stand-in knows`);
}

export async function gh(args: string[]): Promise<never> {
  if (!process.env.GH_TOKEN && !process.env.GITHUB_TOKEN)
    throw fail(
      'gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable. Example:\n  env:\n    GH_TOKEN: ${{ github.token }}',
      4,
    );
  if (args[0] !== 'api') throw fail(`gh ${args.join(' ')}: the rehearsal stand-in answers only gh api`);
  const path = args[1].replace(/^\//, '');
  const jq = args.includes('--jq') ? args[args.indexOf('--jq') + 1] : null;
  const res = await fetch(`${process.env.GITHUB_API_URL}/${path}`, {
    headers: {
      authorization: `token ${process.env.GH_TOKEN ?? process.env.GITHUB_TOKEN}`,
      accept: 'application/vnd.github+json',
    },
  });
  const body = await res.json();
  if (!res.ok) throw fail(`gh: ${(body as { message?: string }).message ?? res.statusText} (HTTP ${res.status})`, 1);
  if (!jq) throw ok(JSON.stringify(body));
  let v = body as Json | undefined; // a parsed JSON response
  for (const k of jq.replace(/^\./, '').split('.').filter(Boolean))
    v = (v as Record<string, Json> | null | undefined)?.[k];
  throw ok(typeof v === 'object' ? JSON.stringify(v) : String(v ?? ''));
}

export function dvc(args: string[]): never {
  const words = args.filter((a) => !a.startsWith('-'));
  // This project's DVC implementation (same files and remote layout as DVC 3), on the mapped remote.
  const project = (cmd: string, allowMissing = false): never => {
    googleCredentials('ERROR: unexpected error - gs is supported, but requires credentials');
    const r = spawnSync(process.execPath, ['--import', TSX, 'training/dvc/cli.ts', cmd], { encoding: 'utf8' });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status === 0) throw ok(out);
    // dvc pull --allow-missing: objects the remote lacks are a warning (the pipeline recomputes them).
    if (allowMissing && /missing from/.test(out))
      throw ok(`WARNING: some cache files do not exist neither locally nor on remote (--allow-missing):\n${out}`);
    throw fail(`ERROR: failed to ${cmd}:\n${out}`);
  };
  if (words[0] === 'version' || args[0] === '--version') throw ok('3.64.0 (rehearsal stand-in over training/dvc)');
  if (words[0] === 'remote' && words[1] === 'add') {
    const [name, url] = words.slice(2);
    if (!args.includes('--local')) throw fail('rehearsal: add the remote with --local (config.local is not committed)');
    const local = url.startsWith('gs://') ? gcsDir(url) : url;
    mkdirSync(local, { recursive: true });
    const cfg = args.includes('-d') || args.includes('--default') ? `[core]\n    remote = ${name}\n` : '';
    writeFileSync(
      join('.dvc', 'config.local'),
      `${cfg}['remote "${name}"']\n    url = ${local}\n# ${url} (rehearsal stand-in bucket)\n`,
    );
    throw ok('');
  }
  if (words[0] === 'pull') project('pull', args.includes('--allow-missing'));
  if (words[0] === 'push') project('push');
  if (words[0] === 'status') project('status');
  throw fail(`dvc ${args.join(' ')}: not a command the rehearsal stand-in knows`);
}

/** `npm ci`: link this machine's installed node_modules instead of downloading (no registry here). */
export function npmCi(args: string[]): never {
  if (!existsSync('package-lock.json'))
    throw fail('npm error The `npm ci` command can only install with an existing package-lock.json');
  const modules = process.env.REHEARSE_NODE_MODULES;
  if (!modules) throw fail('REHEARSE_NODE_MODULES is not set');
  if (!existsSync('node_modules')) symlinkSync(modules, 'node_modules');
  throw ok(`rehearsal: npm ${args.join(' ')} → node_modules linked from ${modules} (no download)`);
}

/** `<venv>/bin/pip install …`: installing dvc puts the dvc stand-in beside pip. */
export function pip(args: string[], self: string): never {
  if (args[0] !== 'install') throw ok('');
  const bin = resolve(self, '..');
  // Requirements files (`-r path`) are read as pip reads them: one requirement per line, `#` comments.
  const requirements = args.flatMap((a, i) => {
    if (args[i - 1] !== '-r') return [a];
    if (!existsSync(a))
      throw fail(`ERROR: Could not open requirements file: [Errno 2] No such file or directory: '${a}'`);
    return readFileSync(a, 'utf8')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim());
  });
  if (requirements.some((a) => /^dvc(\[|=|$)/.test(a))) {
    writeFileSync(join(bin, 'dvc'), `#!/bin/sh\nexec "${process.env.REHEARSE_STUB_SH}" dvc "$@"\n`);
    chmodSync(join(bin, 'dvc'), 0o755);
  }
  throw ok(`rehearsal: pip ${args.join(' ')} → stand-ins in ${bin}`);
}
