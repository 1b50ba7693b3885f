// Issue codes reported by the bundle inspector, and a small collector for them.
//
// Every code has a fixed severity: codes listed in WARNING_CODES are always warnings, every other
// code is always an error. Callers (the upload form, the review queue, the CLI) branch on `code`,
// so codes are part of the public API: never rename one, add a new one instead. The meaning of
// every code is documented in ./README.md.

export interface BundleIssue {
  code: string;
  message: string;
  /** Zip entry name the issue is about (full name, root folder included), or null. */
  file: string | null;
  /** 1-based line in `file`, or null. */
  line: number | null;
  /**
   * The variable parts of `message` by name, so it can be said in another language (./i18n.ts).
   * `variant` (when present) tells apart the different messages one code has. Absent on issues
   * whose message has no variable part.
   */
  params?: IssueParams;
}

/** Named values filled into translated messages ({name} placeholders). */
export type IssueParams = Record<string, string | number>;

export const ERROR_CODES = [
  // Reading the file / zip structure
  'BUNDLE_NOT_FOUND',
  'BUNDLE_NOT_ZIP',
  'BUNDLE_ZIP_CORRUPT',
  'BUNDLE_ZIP_EMPTY',
  'BUNDLE_ZIP_TOO_MANY_ENTRIES',
  'BUNDLE_ZIP_TOO_LARGE',
  'BUNDLE_ZIP_ENTRY_TOO_LARGE',
  'BUNDLE_ZIP_RATIO',
  'BUNDLE_ZIP_SIZE_MISMATCH',
  'BUNDLE_ZIP_CRC_MISMATCH',
  'BUNDLE_ZIP_ENCRYPTED',
  'BUNDLE_ZIP_UNSUPPORTED_COMPRESSION',
  'BUNDLE_ZIP_TRAVERSAL',
  'BUNDLE_ZIP_ABSOLUTE_PATH',
  'BUNDLE_ZIP_BACKSLASH',
  'BUNDLE_ZIP_BAD_NAME',
  'BUNDLE_ZIP_SYMLINK',
  'BUNDLE_ZIP_SPECIAL_FILE',
  'BUNDLE_ZIP_DUPLICATE',
  'BUNDLE_ZIP_OVERLAP',
  'BUNDLE_ZIP_NAME_MISMATCH',
  'BUNDLE_ROOT_MULTIPLE',
  'BUNDLE_ROOT_NOT_DIR',
  'BUNDLE_ROOT_DOT',
  'BUNDLE_ROOT_SUFFIX',
  'BUNDLE_MISSING_INFO',
  // activity.info / library.info (the INI layer and the key rules)
  'INFO_TOO_LARGE',
  'INFO_ENCODING',
  'INFO_BOM',
  'INFO_MISSING_SECTION_HEADER',
  'INFO_PARSE_ERROR',
  'INFO_DUPLICATE_SECTION',
  'INFO_DUPLICATE_KEY',
  'INFO_INTERPOLATION_SYNTAX',
  'INFO_INTERPOLATION_MISSING',
  'INFO_INTERPOLATION_DEPTH',
  'INFO_NO_SECTION',
  'INFO_MISSING_NAME',
  'INFO_EMPTY_NAME',
  'INFO_MISSING_BUNDLE_ID',
  'INFO_BAD_BUNDLE_ID',
  'INFO_MISSING_EXEC',
  'INFO_EMPTY_EXEC',
  'INFO_BAD_VERSION',
  'INFO_BAD_MAX_PARTICIPANTS',
  // content bundles
  'CONTENT_MISSING_GLOBAL_NAME',
  'CONTENT_MISSING_START_PAGE',
  // locale/<lang>/activity.linfo
  'LINFO_FATAL_IN_SUGAR',
] as const;

export const WARNING_CODES = [
  'BUNDLE_KIND_MISMATCH',
  'BUNDLE_ZIP_CASE_DUPLICATE',
  'INFO_INTERPOLATION_IGNORED',
  'INFO_LEGACY_KEY',
  'INFO_BUNDLE_ID_CONFLICT',
  'INFO_BUNDLE_ID_STYLE',
  'INFO_BUNDLE_ID_NON_ASCII',
  'INFO_NO_VERSION',
  'INFO_NO_ICON',
  'INFO_NO_LICENSE',
  'INFO_ODD_MAX_PARTICIPANTS',
  'VERSION_NOT_PORTABLE',
  'VERSION_SUFFIX_GTK2',
  'CONTENT_BUNDLE_CLASS',
  'LINFO_UNKNOWN_LOCALE',
  'LINFO_PARSE_ERROR',
  'LINFO_NO_SECTION',
  'LINFO_TOO_LARGE',
  'LINFO_TOO_MANY',
  'ICON_MISSING',
  'ICON_BAD_NAME',
  'ICON_TOO_LARGE',
  'ICON_INVALID_SVG',
  'ICON_UNSAFE_CONTENT',
  'ICON_NOT_SVG',
  'NEWS_TOO_LARGE',
  'NEWS_ENCODING',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export type WarningCode = (typeof WARNING_CODES)[number];
export type IssueCode = ErrorCode | WarningCode;

const warningSet: ReadonlySet<string> = new Set(WARNING_CODES);

export function isWarningCode(code: string): code is WarningCode {
  return warningSet.has(code);
}

/**
 * Collects issues while a bundle is inspected. The severity comes from the code, so a call site
 * cannot accidentally report the same problem as an error in one place and a warning in another.
 */
export class IssueList {
  readonly errors: BundleIssue[] = [];
  readonly warnings: BundleIssue[] = [];

  add(code: IssueCode, message: string, file: string | null = null, line: number | null = null, params?: IssueParams): void {
    const issue: BundleIssue = params ? { code, message, file, line, params } : { code, message, file, line };
    if (isWarningCode(code)) this.warnings.push(issue);
    else this.errors.push(issue);
  }

  get hasErrors(): boolean {
    return this.errors.length > 0;
  }

  has(code: IssueCode): boolean {
    return this.errors.some((i) => i.code === code) || this.warnings.some((i) => i.code === code);
  }
}
