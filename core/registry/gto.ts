/**
 * GTO's git-tag convention, so the CI workflow can mirror every registry event as a tag and git
 * history shows each promotion (`gto show`, `dvc artifacts get --rev` read them):
 *   register   `<name>@v<N>.0.0`      deregister (archive)  `<name>@v<N>.0.0!`
 *   assign     `<name>#<stage>#<K>`   unassign (demote)     `<name>#<stage>!#<K>`
 * GTO versions are semver (`@v1` is not a GTO tag and `gto show` ignores it): registry version N
 * is GTO version `vN.0.0`.
 * K is GTO's per-artifact counter (one more than the highest K among that artifact's tags), not
 * the version: promoting the same version to a stage twice (e.g. after a rollback) needs a new
 * tag. The registry records the counter on each history event (`event.tags`).
 */
import { MODEL_NAME_SOURCE, assertModelName, assertStageName, assertVersionNumber, isStageName } from './names.ts';
import { parseGtoTagName, registryVersionOf } from './gto-state.ts';

/** GTO's tag grammar (gto/constants.py `tag_re`, GTO 1.10): any tag it rejects, `gto show` ignores. */
export { isGtoTag } from './gto-state.ts';

/** Registry version N as a GTO (semver) version: `vN.0.0`. */
export function gtoVersion(version: number): string {
  return `v${assertVersionNumber(version)}.0.0`;
}

export interface GtoTagNames {
  register: string;
  assign?: string;
}

/**
 * The tags for version `version` of `name`, and with `stage` the tag assigning it there.
 * `counter` defaults to `version`, which is unique only while no version is assigned to the same
 * stage twice; pass the event's counter (the registry does) to follow GTO exactly.
 */
export function gtoTagNames(name: string, version: number, stage?: string, counter: number = version): GtoTagNames {
  assertModelName(name);
  assertVersionNumber(version);
  const register = `${name}@${gtoVersion(version)}`;
  if (stage === undefined) return { register };
  assertStageName(stage);
  assertVersionNumber(counter);
  return { register, assign: `${name}#${stage}#${counter}` };
}

export function gtoDeregisterTag(name: string, version: number): string {
  return `${gtoTagNames(name, version).register}!`;
}

export function gtoUnassignTag(name: string, stage: string, counter: number): string {
  assertModelName(name);
  assertStageName(stage);
  assertVersionNumber(counter);
  return `${name}#${stage}!#${counter}`;
}

export type GtoTag =
  | { action: 'register' | 'deregister'; name: string; version: number }
  | { action: 'assign' | 'unassign'; name: string; stage: string; counter: number };

/**
 * Parse one of the tags this registry makes (`gtoTagNames`, `gtoDeregisterTag`,
 * `gtoUnassignTag`): a GTO tag (gto-state.ts `parseGtoTagName`, GTO's own grammar) of one of our
 * model names whose version is `vN.0.0` and whose stage tags carry a counter; null for any other
 * tag (GTO may still read it: gto-state.ts resolves every GTO tag).
 */
export function parseGtoTag(tag: string): GtoTag | null {
  const p = parseGtoTagName(tag);
  if (!p || !new RegExp(`^${MODEL_NAME_SOURCE}$`).test(p.artifact)) return null;
  const name = p.artifact;
  if (p.action === 'assign' || p.action === 'unassign') {
    if (!isStageName(p.stage!) || p.counter === undefined || /#0[0-9]*$/.test(tag)) return null;
    return { action: p.action, name, stage: p.stage!, counter: p.counter };
  }
  if (p.action !== 'register' && p.action !== 'deregister') return null;
  const version = registryVersionOf(p.version!);
  if (version === null || p.counter !== undefined) return null;
  return { action: p.action, name, version };
}
