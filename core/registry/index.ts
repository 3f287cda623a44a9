/** The model registry's public API; see README.md for the layout and guarantees. */
export { nameRegistryFrom, openRegistry, Registry, versionInfo } from './registry.ts';
export type {
  ChangeOptions,
  FetchedBundle,
  FetchOptions,
  ModelSummary,
  OpenRegistryOptions,
  StageChange,
  VerifyReport,
  VersionInfo,
} from './registry.ts';
export { gtoTagNames, gtoDeregisterTag, gtoUnassignTag, parseGtoTag } from './gto.ts';
export type { GtoTag, GtoTagNames } from './gto.ts';
export {
  compareGtoSemver,
  gtoArtifactState,
  gtoTagMessage,
  isGtoSemver,
  isGtoTag,
  nextGtoCounter,
  parseGtoTagName,
  registryVersionOf,
  resolveGtoState,
} from './gto-state.ts';
export type {
  GitTagRef,
  GtoAction,
  GtoArtifact,
  GtoEvent,
  GtoStageHolder,
  GtoStateOptions,
  GtoTagName,
  GtoVersion,
} from './gto-state.ts';
export {
  FALLBACK_TAGGER,
  createAnnotatedTag,
  gitIn,
  gitWorkTree,
  isAncestor,
  otherVersionAt,
  pushCommand,
  readGitTags,
  resolveCommit,
  shellQuote,
} from './gto-git.ts';
export type { Git } from './gto-git.ts';
export { RegistryError, assertModelName, assertStageName, isStageName, parseVersionNumber } from './names.ts';
export type {
  BundleFile,
  BundleManifest,
  EventType,
  HistoryEvent,
  ModelState,
  VersionMeta,
  VersionMetaInput,
  VersionRecord,
} from './schema.ts';
export type { FaultHook, FaultPoint, RegistryBackend } from './backend.ts';
export { bundleContentMd5, bundleDirMd5, hashBundleDir, verifyBundleDir } from './bundle-files.ts';
export { LocalRegistryBackend } from './local-backend.ts';
export { GcsRegistryBackend } from './gcs-backend.ts';
export type { RetryOptions } from './gcs-backend.ts';
export type { GcsClient } from '../platform/gcs.ts';
export type { LockOptions } from './lock.ts';
