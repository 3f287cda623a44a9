/**
 * GTO's git-tag convention, so the CI workflow can mirror every registry event as a tag and git
 * history shows each promotion:
 *   register   `<name>@v<N>`          deregister (archive)  `<name>@v<N>!`
 *   assign     `<name>#<stage>#<K>`   unassign (demote)     `<name>#<stage>!#<K>`
 * K is GTO's per-artifact counter (one more than the highest K among that artifact's tags), not
 * the version: promoting the same version to a stage twice (e.g. after a rollback) needs a new
 * tag. The registry records the counter on each history event (`event.tags`).
 */
import { MODEL_NAME_SOURCE, assertModelName, assertStageName, assertVersionNumber } from './names.ts';

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
  const register = `${name}@v${version}`;
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

const VERSION_TAG = new RegExp(`^(${MODEL_NAME_SOURCE})@v([1-9][0-9]*)(?:\\.0\\.0)?(!?)$`);
const STAGE_TAG = new RegExp(`^(${MODEL_NAME_SOURCE})#([a-z][a-z0-9-]*)(!?)#([1-9][0-9]*)$`);

/** Parse a tag made by `gtoTagNames` (also accepts GTO's `v<N>.0.0`); null for any other tag. */
export function parseGtoTag(tag: string): GtoTag | null {
  const v = VERSION_TAG.exec(tag);
  if (v) return { action: v[3] ? 'deregister' : 'register', name: v[1], version: Number(v[2]) };
  const s = STAGE_TAG.exec(tag);
  if (s) return { action: s[3] ? 'unassign' : 'assign', name: s[1], stage: s[2], counter: Number(s[4]) };
  return null;
}
