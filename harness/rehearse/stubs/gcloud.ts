/** gcloud: `auth configure-docker <hosts>` (docker credential helper config) and read-only describes; every call needs credentials. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fail, googleCredentials, ok } from './state.ts';

export function gcloud(args: string[]): never {
  const words = args.filter((a) => !a.startsWith('-'));
  if (words[0] === 'version' || args.includes('--version')) throw ok('Google Cloud SDK (rehearsal stand-in)');
  googleCredentials('ERROR: (gcloud)');
  if (words[0] === 'auth' && words[1] === 'configure-docker') {
    const hosts = (words[2] ?? '').split(',').filter(Boolean);
    if (!hosts.length)
      throw fail('ERROR: (gcloud.auth.configure-docker) give the registry host, e.g. europe-west1-docker.pkg.dev');
    const dir = join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'));
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'config.json');
    const cfg = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    cfg.credHelpers = { ...(cfg.credHelpers ?? {}), ...Object.fromEntries(hosts.map((h) => [h, 'gcloud'])) };
    writeFileSync(file, JSON.stringify(cfg, null, 2));
    throw ok(`Adding credentials for: ${hosts.join(',')}\nDocker configuration file updated.`);
  }
  if (words[0] === 'auth' && (words[1] === 'print-access-token' || words[1] === 'application-default'))
    throw ok('ya29.rehearsal-access-token');
  if (words[0] === 'config' || words[0] === 'auth') throw ok('');
  throw fail(
    `gcloud ${args.join(' ')}: not a command the rehearsal stand-in knows; add it to harness/rehearse/stubs/gcloud.ts`,
  );
}
