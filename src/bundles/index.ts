// Public API of the bundle library: parse and validate Sugar .xo activity bundles and .xol
// content bundles the way Sugar does, plus the safety checks a server needs. No database, no
// HTTP: give it a file path, get metadata and a list of problems. See README.md for the rules
// and the full list of issue codes.

export type { BundleIssue, ErrorCode, WarningCode, IssueCode, IssueParams } from './errors.js';
export { ERROR_CODES, WARNING_CODES, isWarningCode } from './errors.js';
export type { BundleLimits } from './zip.js';
export { DEFAULT_LIMITS, RATIO_CHECK_MIN_BYTES } from './zip.js';
export type { LocalizedMetadata } from './linfo.js';
export type { BundleMetadata, BundleFile, InspectResult, InspectOptions } from './inspect.js';
export { inspectBundle, READ_CAPS } from './inspect.js';
export type { ParsedSugarVersion } from './version.js';
export { parseSugarVersion, compareSugarVersions, sugarVersionSortKey, normalizeSugarVersion, isGtk2Suffix } from './version.js';
export type { Runtime } from './runtime.js';
export { runtimeFromExec } from './runtime.js';
export { contentTypeFor } from './content-type.js';
export { resolveIconColors, DEFAULT_STROKE_COLOR, DEFAULT_FILL_COLOR } from './icon.js';
export { sanitizeDescription } from './sanitize.js';
export { sanitizeSvg } from './svg.js';
export {
  ISSUE_MESSAGES,
  SOURCE_LOCALE,
  loadIssueCatalogs,
  issueLocales,
  issueCatalog,
  matchIssueLocale,
  acceptLanguageTags,
  chooseIssueLocale,
  issueLocaleDir,
  issueKey,
  localizeIssue,
  localizeIssues,
} from './i18n.js';
export type { BundleManifest, ManifestEntry } from './manifest.js';
export { readBundleManifest, MANIFEST_TEXTS } from './manifest.js';
