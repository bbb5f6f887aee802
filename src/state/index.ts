// The durable state store: everything about a target that must outlive the process. Internal to
// ioasform (the CLI and the applier use it); not part of the package's public API.
export { bigintToHex, canonicalJson, hexToBigint, parseJson } from './canonical-json.js';
export type { CanonicalJsonError, CanonicalJsonOptions, CanonicalJsonResult, ParseJsonResult } from './canonical-json.js';
export { sha256Checksum } from './checksum.js';
export { DEFAULT_STATE_PATH, isTempNameFor, journalPathFor, lockPathFor, tempPathFor } from './paths.js';
export {
  STATE_FORMAT_VERSION,
  decodeStateEnvelope,
  newLineageState,
  nextState,
  readStateFile,
  readStateFileIfExists,
  writeStateFile,
} from './state-file.js';
export type {
  StateEnvelope,
  StateReadError,
  StateReadErrorCode,
  StateReadResult,
  StateWriteError,
  StateWriteErrorCode,
  StateWriteResult,
  UnsealedState,
} from './state-file.js';
export { removeStaleTempFiles } from './leftovers.js';
export { acquireLock, forceUnlock, forceUnlockCommand, inspectLock, isStale, releaseLock } from './lock.js';
export type { AcquireOptions, LockError, LockErrorCode, LockHandle, LockInfo, LockResult } from './lock.js';
export {
  JOURNAL_FORMAT_VERSION,
  appendRecord,
  appendRecords,
  clearJournal,
  closeJournal,
  decodeJournal,
  journalOutcome,
  openJournal,
  readJournal,
  resumeJournal,
} from './journal.js';
export type { JournalContents, JournalError, JournalErrorCode, JournalHandle, JournalHeader, JournalResult } from './journal.js';
