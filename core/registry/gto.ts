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
 * GTO's own tag grammar (gto/constants.py `tag_re`, GTO 1.9): an artifact name (with an optional
 * `dir=` prefix), then `@v<semver>` or `#<stage>`, an optional `!` (cancel), an optional
 * `#<counter>`; or `@deprecated` / `@created`. Any tag it rejects, `gto show` ignores.
 */
const GTO_NAME = '[a-zA-Z0-9](?:[a-zA-Z0-9-/_]*[a-zA-Z0-9])?';
const SEMVER_ID = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER = `(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-(${SEMVER_ID}(?:\\.${SEMVER_ID})*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?`;
const GTO_TAG = new RegExp(
  `^((?:[a-zA-Z0-9-_./]+=)?${GTO_NAME})(?:(?:#(${GTO_NAME})|@(v${SEMVER}))(!?)|@(deprecated|created))(?:#([0-9]+))?$`,
);

/** True when GTO's tag grammar accepts `tag` (whatever made it). */
export function isGtoTag(tag: string): boolean {
  return GTO_TAG.test(tag);
}

/**
 * Parse one of the tags this registry makes (`gtoTagNames`, `gtoDeregisterTag`,
 * `gtoUnassignTag`): a GTO tag of one of our model names whose version is `vN.0.0` and whose stage
 * tags carry a counter; null for any other tag.
 */
export function parseGtoTag(tag: string): GtoTag | null {
  const m = GTO_TAG.exec(tag);
  if (!m || !new RegExp(`^${MODEL_NAME_SOURCE}$`).test(m[1])) return null;
  const [, name, stage, , major, minor, patch, pre, build, cancel, special, counter] = m;
  if (special) return null;
  if (stage !== undefined) {
    if (!isStageName(stage) || counter === undefined || /^0/.test(counter)) return null;
    return { action: cancel ? 'unassign' : 'assign', name, stage, counter: Number(counter) };
  }
  if (
    minor !== '0' ||
    patch !== '0' ||
    pre !== undefined ||
    build !== undefined ||
    counter !== undefined ||
    major === '0'
  )
    return null;
  return { action: cancel ? 'deregister' : 'register', name, version: Number(major) };
}
