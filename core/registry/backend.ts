/**
 * What the registry needs from where it is stored. A backend keeps immutable bundle copies and
 * one state document per model, and replaces that document atomically: the local directory under
 * a lock file, GCS by compare-and-swap on the object's generation.
 */
import type { BundleFile, BundleManifest, ModelState } from './schema.ts';

/** Places where a test can pause (then SIGKILL) a write to prove a crash there is harmless. */
export type FaultPoint =
  | 'bundle:partial' // some bundle files copied or uploaded, not all
  | 'bundle:copied' // every file copied into the temporary directory, not yet renamed
  | 'bundle:stored' // bundle complete under its final name, state not yet changed
  | 'state:locked' // the state lock is held (local) or the state was read (GCS)
  | 'state:written' // the new state is written under a temporary name, not yet renamed
  | 'state:committed'; // the new state is in place, the lock not yet released
export type FaultHook = (point: FaultPoint) => void | Promise<void>;

/** Turn the current document into the next one; null means "nothing to change". Must be pure: it may run again after a conflict. */
export type Mutation = (current: ModelState | null) => ModelState | null;

export interface RegistryBackend {
  describe(): string;
  listModels(): Promise<string[]>;
  readState(model: string): Promise<ModelState | null>;
  /**
   * Commit `mutate(current)`. Returns the committed document, or the current one when `mutate`
   * returned null or an event of write `tx` is already in the history (a retried write whose
   * first attempt landed: the history never holds an event twice).
   */
  update(model: string, tx: string, mutate: Mutation): Promise<ModelState | null>;
  /**
   * Store an immutable copy of a local bundle directory; complete before it returns. `files`, the
   * directory's hashes when the caller has them, lets a backend reuse an identical stored copy
   * without copying again.
   */
  storeBundle(model: string, localDir: string, files?: BundleFile[]): Promise<BundleManifest>;
  /** Copy a stored bundle's files into `destDir` (the caller verifies them). */
  fetchBundleFiles(bundle: BundleManifest, destDir: string): Promise<void>;
  /** Problems with the stored copy (missing objects, sizes, md5s); empty when intact. */
  verifyBundle(bundle: BundleManifest): Promise<string[]>;
  /**
   * Replace the document at registry-relative `key` (not under `models/` or `bundles/`) with
   * `data`, whole: a reader sees the previous document or this one, never part of it.
   */
  writeDocument(key: string, data: Buffer): Promise<void>;
  /** The document at `key`, or null when there is none. */
  readDocument(key: string): Promise<Buffer | null>;
  /** Where the stored copy can be read in place, for backends that have one on local disk. */
  localBundleDir?(bundle: BundleManifest): string;
  /** Stored bundle copies no version of `state` refers to (a register that failed after storing). */
  orphanBundles?(model: string, state: ModelState | null): Promise<OrphanBundle[]>;
  /** Remove stored copy `path` if no version refers to it (checked under the state's lock); whether it did. */
  removeUnreferencedBundle?(model: string, path: string): Promise<boolean>;
}

export interface OrphanBundle {
  /** Registry-relative, as versions record it: `bundles/<model>/<md5>`. */
  path: string;
  /** Since it was stored. */
  ageMs: number;
}

export function hasCommitted(state: ModelState | null, tx: string): boolean {
  return !!state && state.history.some((e) => e.tx === tx);
}
