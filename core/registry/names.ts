/**
 * Names the registry accepts. Model names and stages end up in object keys, file names and GTO
 * git tags (`<name>@v<N>.0.0`, `<name>#<stage>#<K>`), so they exclude `/`, `@`, `#`, `!` and spaces.
 */
/** Lowercase letters, digits and inner '-' (GTO's artifact names, without its '/' nesting). */
export const MODEL_NAME_SOURCE = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const MODEL_NAME = new RegExp(`^${MODEL_NAME_SOURCE}$`);
const STAGE_NAME = /^[a-z][a-z0-9-]*$/;

/** Why a registry call was refused: the caller asked for something that does not exist or is not allowed. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly code: 'not-found' | 'invalid' | 'conflict' | 'corrupt' | 'no-space',
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

export function assertModelName(name: string): string {
  if (!MODEL_NAME.test(name)) {
    throw new RegistryError(
      `invalid model name ${JSON.stringify(name)}: use lowercase letters, digits and '-' (e.g. flight-delay)`,
      'invalid',
    );
  }
  return name;
}

export function assertStageName(stage: string): string {
  if (!STAGE_NAME.test(stage)) {
    throw new RegistryError(
      `invalid stage ${JSON.stringify(stage)}: use a lowercase letter then letters, digits or '-' (e.g. staging, production)`,
      'invalid',
    );
  }
  return stage;
}

export function isStageName(s: string): boolean {
  return STAGE_NAME.test(s);
}

/** `3`, `v3` → 3; anything else → null. */
export function parseVersionNumber(text: string): number | null {
  const m = /^v?([1-9][0-9]*)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

export function assertVersionNumber(v: number): number {
  if (!Number.isSafeInteger(v) || v < 1)
    throw new RegistryError(`invalid version ${v}: versions are 1, 2, 3…`, 'invalid');
  return v;
}

/** A bundle file's relative path: `/`-separated, no empty, `.` or `..` parts, no backslashes. */
export function isSafeRelpath(relpath: string): boolean {
  return (
    relpath !== '' &&
    !relpath.startsWith('/') &&
    !relpath.includes('\\') &&
    relpath.split('/').every((p) => p !== '' && p !== '.' && p !== '..')
  );
}
