// Building Sugar bundles from git commits (docs/building.md). No database.
export { buildFromGit, verifyBundle, readProvenance, firstDifference, PROVENANCE_FILE, BUILDER_ID } from './build.js';
export type { BuildOptions, BuildResult, Provenance, VerifyResult } from './build.js';
export { BuildError } from './errors.js';
export type { BuildErrorCode } from './errors.js';
export { DEFAULT_GIT_LIMITS } from './git.js';
export type { GitLimits } from './git.js';
export type { BuildWarning } from './translations.js';
export { parsePo } from './po.js';
export { compileMo, writeMo, moMessages } from './mo.js';
