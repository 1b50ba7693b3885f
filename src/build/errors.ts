// Errors of the source builder. Every refusal carries a stable code (see docs/building.md).
import { AsloError } from '../platform/errors.js';

export type BuildErrorCode =
  | 'BUILD_SOURCE_UNSUPPORTED'
  | 'BUILD_SOURCE_NOT_FOUND'
  | 'BUILD_GIT_MISSING'
  | 'BUILD_GIT_UNREACHABLE'
  | 'BUILD_GIT_AUTH_REQUIRED'
  | 'BUILD_GIT_TIMEOUT'
  | 'BUILD_GIT_TOO_LARGE'
  | 'BUILD_GIT_FAILED'
  | 'BUILD_REF_NOT_FOUND'
  | 'BUILD_NO_INFO'
  | 'BUILD_INFO_INVALID'
  | 'BUILD_PATH_WHITESPACE'
  | 'BUILD_PATH_INVALID'
  | 'BUILD_SUBMODULE'
  | 'BUILD_SYMLINK_OUTSIDE'
  | 'BUILD_SYMLINK_DANGLING'
  | 'BUILD_PROVENANCE_CONFLICT'
  | 'BUILD_PO_INVALID'
  | 'BUILD_PO_BAD_NAME'
  | 'BUILD_PO_CHARSET'
  | 'BUILD_VALIDATION_FAILED'
  | 'BUILD_OUTPUT_EXISTS'
  | 'BUILD_VERIFY_NO_SOURCE'
  | 'BUILD_VERIFY_UNREADABLE';

export class BuildError extends AsloError {
  constructor(code: BuildErrorCode, message: string, details?: unknown) {
    super(code, message, { statusCode: 422, details });
    this.name = 'BuildError';
  }
}
