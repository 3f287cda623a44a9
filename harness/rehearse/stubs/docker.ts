/**
 * docker: `build -f <Dockerfile> -t <ref>… <context>` records a local image (the Dockerfile must
 * exist) and the commit its context is checked out at; `push --all-tags <repo>` / `push <ref>` needs the registry host configured for gcloud
 * (`gcloud auth configure-docker`) and records the pushed tags and digest in the stand-in registry;
 * `inspect --format '{{index .RepoDigests 0}}' <ref>` answers `<repo>@sha256:…` once pushed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fail, ok, readState, writeState } from './state.ts';

export interface Image {
  repo: string;
  tag: string;
  digest: string;
  revision?: string;
}
const repoOf = (ref: string) => ref.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^:/]+$/, '');
const tagOf = (ref: string) => /:([^:/]+)$/.exec(ref.replace(/@sha256:[0-9a-f]+$/, ''))?.[1] ?? 'latest';

export function docker(args: string[]): never {
  const [verb, ...rest] = args;
  if (verb === 'build') {
    let file = 'Dockerfile';
    const tags: string[] = [];
    const labels: string[] = [];
    let context = '.';
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i];
      if (a === '-f' || a === '--file') file = rest[++i];
      else if (a === '-t' || a === '--tag') tags.push(rest[++i]);
      else if (a === '--label') labels.push(rest[++i]);
      else if (a === '--build-arg' || a === '--platform' || a === '--target') i++;
      else if (!a.startsWith('-')) context = a;
    }
    if (!existsSync(resolve(file)))
      throw fail(`ERROR: failed to solve: failed to read dockerfile: open ${file}: no such file or directory`);
    if (!tags.length) throw fail('rehearsal: docker build without -t leaves an image nobody can push');
    const digest = `sha256:${createHash('sha256')
      .update(readFileSync(resolve(file)))
      .update(tags.join(','))
      .update(labels.join(','))
      .digest('hex')}`;
    // The commit the build context is checked out at: what the image is really built from.
    const head = spawnSync('git', ['-C', resolve(context), 'rev-parse', 'HEAD'], { encoding: 'utf8' });
    const revision = head.status === 0 ? head.stdout.trim() : undefined;
    const local = readState<Image[]>('docker-local.json', []);
    for (const t of tags) local.push({ repo: repoOf(t), tag: tagOf(t), digest, revision });
    writeState('docker-local.json', local);
    throw ok(
      `#1 [internal] load build definition from ${file}\n#9 exporting to image ${tags.join(' ')} (context ${context}) done`,
    );
  }
  if (verb === 'push') {
    const all = rest.includes('--all-tags') || rest.includes('-a');
    const ref = rest.filter((a) => !a.startsWith('-'))[0];
    if (!ref) throw fail('"docker push" requires exactly 1 argument');
    const host = ref.split('/')[0];
    const cfgFile = join(process.env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
    const helpers = existsSync(cfgFile) ? (JSON.parse(readFileSync(cfgFile, 'utf8')).credHelpers ?? {}) : {};
    if (host.includes('.') && !helpers[host])
      throw fail(
        `denied: Unauthenticated request. Unauthenticated requests do not have permission "artifactregistry.repositories.uploadArtifacts" (run gcloud auth configure-docker ${host})`,
      );
    const local = readState<Image[]>('docker-local.json', []);
    const images = local.filter((i) => i.repo === repoOf(ref) && (all || i.tag === tagOf(ref)));
    if (!images.length) throw fail(`An image does not exist locally with the tag: ${ref}`);
    const pushed = readState<Image[]>('registry.json', []);
    pushed.push(...images);
    writeState('registry.json', pushed);
    throw ok(images.map((i) => `${i.tag}: digest: ${i.digest} size: 1234`).join('\n'));
  }
  if (verb === 'inspect') {
    const ref = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '--format' && rest[i - 1] !== '-f')[0];
    const pushed = readState<Image[]>('registry.json', []).find((i) => i.repo === repoOf(ref) && i.tag === tagOf(ref));
    const local = readState<Image[]>('docker-local.json', []).find(
      (i) => i.repo === repoOf(ref) && i.tag === tagOf(ref),
    );
    if (!local) throw fail(`Error: No such object: ${ref}`);
    const format = rest[rest.indexOf('--format') + 1] ?? rest[rest.indexOf('-f') + 1] ?? '';
    if (format.includes('RepoDigests')) {
      if (!pushed)
        throw fail(
          `template: :1:2: executing "" at <index .RepoDigests 0>: error calling index: index out of range: 0 (${ref} was never pushed)`,
        );
      throw ok(`${pushed.repo}@${pushed.digest}`);
    }
    throw ok(JSON.stringify([{ RepoTags: [ref], Id: local.digest }]));
  }
  throw fail(
    `docker ${args.join(' ')}: not a command the rehearsal stand-in knows; add it to harness/rehearse/stubs/docker.ts`,
  );
}

/** Whether the stand-in registry holds `ref` (by tag or by digest). */
export function isPushed(ref: string): boolean {
  const pushed = readState<Image[]>('registry.json', []);
  const digest = /@(sha256:[0-9a-f]+)$/.exec(ref)?.[1];
  return pushed.some((i) => i.repo === repoOf(ref) && (digest ? i.digest === digest : i.tag === tagOf(ref)));
}
