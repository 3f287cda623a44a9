/** DVC 3 formats, cache/remote layout and data commands, without DVC installed. */
export { md5File, md5Bytes, hashDir, hashPath, dirManifestBytes, parseDirManifest, DIR_SUFFIX } from './hash.ts';
export type { PathHash, FileHash, DirHash, ManifestEntry, FileEntry, HashOptions } from './hash.ts';
export { pythonJsonDumps, pythonFloatRepr, compareCodePoints, PyFloat } from './pyjson.ts';
export { dumpYamlLikeDvc, parseYamlPy, pyEquals } from './yaml.ts';
export { readDvcFile, writeDvcFile, parseDvcFile, serializeDvcFile, outFromHash } from './dvcfile.ts';
export type { DvcFile, DvcOut } from './dvcfile.ts';
export { parsePipeline, readPipeline, PIPELINE_FILE } from './dvcyaml.ts';
export type { PipelineDef, StageSpec, OutSpec, ParamsSpec } from './dvcyaml.ts';
export {
  readLock,
  writeLock,
  parseLock,
  serializeLock,
  lockEntry,
  lockStageView,
  lockItemFromHash,
  updateLock,
  LOCK_FILE,
} from './lock.ts';
export type { LockFile, LockStage, LockItem } from './lock.ts';
export { readParamValues, selectParams, loadParamsFile } from './param-values.ts';
export { readDvcConfig, parseConfig, serializeConfig, resolveRemote, initDvcRepo, DVC_DIR } from './config.ts';
export { LocalCache, objectKey, copyVerified, ObjectCorruptedError } from './cache.ts';
export { HashCache } from './hash-cache.ts';
export { DvcIgnore } from './ignore.ts';
export { collectTrackedOuts } from './tracked.ts';
export type { TrackedOut } from './tracked.ts';
export { openRepo, HASH_CACHE_FILE } from './repo.ts';
export type { RepoOptions, RepoContext } from './repo.ts';
export { push, pull } from './transfer.ts';
export type { DataOptions, PullOptions, TransferSummary } from './transfer.ts';
export { status } from './status.ts';
export type { OutStatus, StatusOptions } from './status.ts';
export { dvcAdd } from './add.ts';
export type { AddOptions, AddResult } from './add.ts';
export { compareWithRecorded } from './recorded.ts';
export type { RecordedComparison } from './recorded.ts';
