// Every error code the store answers with, throws or reports, in one list: its HTTP status and
// what it means (what happened, what to do). AsloError takes only a code listed here (its type is
// derived from this list) and gets its status from it; docs/errors.md is generated from it
// (`npm run docs:errors`), and test/unit/error-registry.test.ts checks that every code in src/ is
// listed, documented and used. Codes are part of the public API: never rename one, add a new one.
//
// A new code: add it to the group it belongs to, then run `npm run docs:errors`.

/** One code: the status of the answer that carries it, and its meaning for the reader of docs/errors.md. */
export interface ErrorSpec {
  status: number;
  meaning: string;
}

type Group = Record<string, ErrorSpec>;

/** Any address: what the request guard, the router and the error classifier answer. */
const REQUESTS = {
  NOT_FOUND: { status: 404, meaning: 'Nothing is at this address (or a path parameter cannot name anything). Check the address.' },
  PAGE_NOT_FOUND: { status: 404, meaning: 'The store has no page at this address under a locale. Go to the home page or search.' },
  BAD_REQUEST: {
    status: 400,
    meaning:
      'The request does not fit what the address takes (schema validation, or a malformed request the framework refused). Fix the request as the message says.',
  },
  BAD_PARAMETER: { status: 400, meaning: 'A query parameter is out of its range or not of its type. Send a value in the range the message gives.' },
  BAD_JSON: { status: 400, meaning: 'The body is not valid JSON. Send a JSON body.' },
  BAD_ADDRESS: { status: 400, meaning: 'A parameter meant to be an IP address is not one. Send an IPv4 or IPv6 address.' },
  REQUEST_NUL_BYTE: { status: 400, meaning: 'The address, a parameter or a field holds a NUL byte, which none may contain. Remove it.' },
  REQUEST_BAD_ENCODING: { status: 400, meaning: 'The address, a header or a field is not valid UTF-8. Encode it as UTF-8 (percent-escaped in addresses).' },
  URL_TOO_LONG: { status: 414, meaning: 'A part of the address is longer than any route takes. Shorten it.' },
  REQUEST_TOO_LARGE: { status: 413, meaning: 'The body is larger than this address accepts (the upload limit for uploads). Send less.' },
  MULTIPART_MALFORMED: { status: 400, meaning: 'A multipart form is cut short or does not follow its boundary. Send the form again, whole.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The body has a content type this address does not read. Send one it takes (JSON, a form, or the bundle).' },
  CSRF_INVALID: { status: 403, meaning: 'A form expired or did not come from this site. Reload the page and send the form again.' },
  CLIENT_CLOSED: { status: 400, meaning: 'The client closed the connection before its request was read whole; logged, nothing to answer.' },
  RATE_LIMITED: { status: 429, meaning: 'Too many attempts (log-ins, mails, uploads) from this client or account. Wait the time the message gives.' },
  INTERNAL: { status: 500, meaning: "Something failed on the store's side; the error was logged with the request id. Try again; report it if it lasts." },
  DB_READ_ONLY: {
    status: 503,
    meaning: 'The main database cannot be reached for a moment: reading works, changes do not. Try the change again after Retry-After.',
  },
  DB_UNAVAILABLE: { status: 503, meaning: 'No database server can be reached. Try again in a minute.' },
  DB_FATAL: {
    status: 503,
    meaning: 'The database failed and this process is stopping so that a new one starts. Try again; operators see the cause in the log.',
  },
  INDEX_BUSY: { status: 503, meaning: 'The update index is being rebuilt for many requests at once. Retry in a few seconds.' },
  UPDATE_INDEX_LOADING: {
    status: 503,
    meaning:
      "The process has just started and is still loading the updater's index from the database; update checks wait for it a few seconds, then get this. Retry after Retry-After.",
  },
} as const satisfies Group;

/** Accounts, sessions, API tokens and permissions. */
const ACCOUNTS = {
  AUTH_REQUIRED: { status: 401, meaning: 'This needs a logged-in account (or an API token). Log in, or send a token in the Authorization header.' },
  AUTH_HEADER_INVALID: { status: 401, meaning: 'The Authorization header is not "Bearer <token>". Send it in that form.' },
  TOKEN_INVALID: { status: 401, meaning: 'The API token is unknown, revoked or expired. Create a new one in the account settings.' },
  TOKEN_SCOPE_MISSING: { status: 403, meaning: 'The API token lacks the scope this needs. Create a token with that scope.' },
  TOKEN_CANNOT_CREATE: { status: 403, meaning: 'API tokens are created in the web interface, not with another token.' },
  TOKEN_NAME_INVALID: { status: 400, meaning: 'A token name is 1 to 100 characters. Give one.' },
  TOKEN_SCOPE_INVALID: { status: 400, meaning: 'A token scope is not one the store knows. Choose among the listed scopes.' },
  TOKEN_EXPIRY_INVALID: { status: 400, meaning: "A token's lifetime is outside the allowed number of days. Choose one in range." },
  TOKEN_NOT_FOUND: { status: 404, meaning: 'The account has no API token with this id.' },
  LOGIN_FAILED: { status: 401, meaning: 'The e-mail address or the password is wrong. Try again, or reset the password.' },
  PASSWORD_WRONG: { status: 403, meaning: 'The current password given to confirm a change is wrong.' },
  PASSWORD_TOO_SHORT: { status: 400, meaning: 'The new password is shorter than the minimum. Choose a longer one.' },
  PASSWORD_TOO_LONG: { status: 400, meaning: 'The new password is longer than the maximum. Choose a shorter one.' },
  EMAIL_INVALID: { status: 400, meaning: 'This is not an e-mail address. Enter one like name@example.org.' },
  EMAIL_TAKEN: { status: 409, meaning: 'Another account uses this e-mail address. Log in to that account, or delete it first.' },
  EMAIL_UNCHANGED: { status: 400, meaning: 'The new e-mail address is the current one.' },
  EMAIL_NOT_VERIFIED: {
    status: 403,
    meaning: "The account's e-mail address is not confirmed yet. Follow the link in the confirmation mail (the account page sends it again).",
  },
  EMAIL_CHANGE_LIMIT: { status: 429, meaning: 'Too many address changes were asked for in 24 hours. Open the link of one of those mails, or try tomorrow.' },
  LINK_INVALID: { status: 400, meaning: 'A mailed link was used already, expired, or was replaced by a newer one. Ask for a new mail.' },
  DISPLAY_NAME_INVALID: { status: 400, meaning: 'A display name is 1 to 100 characters. Enter one.' },
  NAME_BIDI_OVERRIDE: { status: 400, meaning: 'A name holds bidirectional override or isolate characters, which make it show as something else. Remove them.' },
  LOCALE_INVALID: { status: 400, meaning: 'The language is not one of the listed ones. Choose from the list.' },
  ROLE_INVALID: { status: 400, meaning: "The role is not one of the store's roles. Choose one of those listed." },
  ROLE_SELF_DEMOTION: { status: 409, meaning: 'Administrators cannot remove their own administrator role. Ask another administrator.' },
  USER_NOT_FOUND: { status: 404, meaning: 'No account has this id or e-mail address.' },
  FORBIDDEN_NOT_ADMIN: { status: 403, meaning: 'Only administrators may do this.' },
  FORBIDDEN_NOT_EDITOR: { status: 403, meaning: 'Only editors may do this.' },
  FORBIDDEN_NOT_AUTHOR: { status: 403, meaning: 'Only the authors of this activity (and, where said, editors or administrators) may do this.' },
  FORBIDDEN_NOT_OWNER: { status: 403, meaning: 'Only an owner of this activity may do this.' },
} as const satisfies Group;

/** The catalog, the store's pages, collections and the updater. */
const CATALOG = {
  ACTIVITY_NOT_FOUND: { status: 404, meaning: 'No activity (visible to this viewer) has this id or bundle id. Check the id.' },
  VERSION_NOT_FOUND: { status: 404, meaning: 'The activity has no (published) version with this number or id.' },
  FILE_NOT_FOUND: { status: 404, meaning: 'No (published) file has this id or path.' },
  ICON_NOT_FOUND: { status: 404, meaning: 'The activity has no icon.' },
  CATEGORY_NOT_FOUND: { status: 404, meaning: 'The store has no category with this name.' },
  TAG_NOT_FOUND: { status: 404, meaning: 'No public activity has this tag.' },
  AUTHOR_NOT_FOUND: { status: 404, meaning: 'No such author: no author page has this id, or the person is not an author of the activity.' },
  NO_COMPATIBLE_VERSION: {
    status: 404,
    meaning: 'No version of the activity runs on the Sugar release asked for. The message links to every version and the releases it runs on.',
  },
  SUGAR_VERSION_UNKNOWN: { status: 400, meaning: 'The sugar parameter is not a Sugar release the store knows. Send one like 0.112.' },
  COLLECTION_NOT_FOUND: { status: 404, meaning: 'No collection has this nickname. List them with "aslo collection list".' },
  COLLECTION_ENTRY_NOT_FOUND: { status: 404, meaning: 'The activity is not in this collection.' },
  COLLECTION_EXISTS: { status: 409, meaning: 'A collection with this nickname exists already. Choose another nickname.' },
  COLLECTION_BAD_NICKNAME: { status: 400, meaning: 'A collection nickname is 1 to 64 letters, digits, "-" or "_", starting with a letter or digit.' },
  COLLECTION_NAME_REQUIRED: { status: 400, meaning: 'A collection needs a name (--name).' },
} as const satisfies Group;

/** Downloads, download statistics, the repo tree and mirrors. */
const DOWNLOADS = {
  HASH_UNKNOWN: { status: 404, meaning: 'The store knows no hash of this kind for this file.' },
  MIRRORLIST_NOT_PUBLISHED: { status: 404, meaning: 'Only published files are on the mirrors and have a mirror list.' },
  FILE_BYTES_UNAVAILABLE: { status: 503, meaning: "The file's bytes cannot be read right now (storage away). Try again later." },
  DOWNLOAD_FAILED: { status: 503, meaning: 'The download could not be answered (an unexpected failure, logged). Try again.' },
  DOWNLOAD_LOGIN_REQUIRED: { status: 401, meaning: 'The file is an experimental version not reviewed yet: log in to download it.' },
  DOWNLOAD_CONFIRM_REQUIRED: {
    status: 403,
    meaning: 'The file is an experimental version not reviewed yet: confirm with the parameter the message names to download it anyway.',
  },
  STATS_RANGE_INVALID: { status: 400, meaning: 'The date range of the download statistics is not valid (the message says why). Give valid dates, in order.' },
  REPO_BAD_FILE_NAME: { status: 400, meaning: 'The file name cannot be used in the repo tree (for example it starts with a dot or holds a slash).' },
  REPO_PATH_TAKEN: { status: 409, meaning: 'Another file owns this path of the repo tree already; the file cannot be published there.' },
  MIRROR_NOT_FOUND: { status: 404, meaning: 'No mirror has this name or id. List them with "aslo mirror list".' },
  MIRROR_EXISTS: { status: 409, meaning: 'A mirror with this name exists already. Edit it instead.' },
  MIRROR_REMOVE_UNCONFIRMED: { status: 400, meaning: 'Removing a mirror needs its name typed as confirmation.' },
  MIRROR_NAME_INVALID: { status: 400, meaning: 'A mirror name is 1 to 63 lowercase letters, digits, dots or hyphens.' },
  MIRROR_URL_INVALID: { status: 400, meaning: 'A mirror base URL is not a URL of its scheme, or holds a query, fragment or credentials.' },
  MIRROR_NO_URL: { status: 400, meaning: 'A mirror needs an HTTP or an HTTPS base URL (or both).' },
  MIRROR_FIELD_TOO_LONG: { status: 400, meaning: 'A mirror field is longer than it may be.' },
  MIRROR_COUNTRY_INVALID: { status: 400, meaning: 'The country is not an ISO 3166-1 two-letter code (like DE, PE, US).' },
  MIRROR_CONTINENT_INVALID: { status: 400, meaning: 'The continent is not one of the listed codes.' },
  MIRROR_COORDINATES_INVALID: { status: 400, meaning: 'Latitude and longitude go together, within their ranges: give both or neither.' },
  MIRROR_ASN_INVALID: { status: 400, meaning: 'The AS number is not a whole number in range.' },
  MIRROR_SIZE_INVALID: { status: 400, meaning: 'The size limit is not a whole number in range.' },
  MIRROR_WEIGHT_INVALID: { status: 400, meaning: 'The weight is not a whole number in range.' },
  MIRROR_PREFIX_INVALID: { status: 400, meaning: 'A network prefix is not one (like 192.0.2.0/24 or 2001:db8::/32).' },
  MIRROR_RESTRICTION_INVALID: { status: 400, meaning: 'A mirror restricted to its country, continent or AS needs that country, continent or AS number.' },
} as const satisfies Group;

/** Uploads, the developer hub, listings, publishing from git and the editors' review. */
const PUBLISHING = {
  UPLOAD_NO_FILE: {
    status: 400,
    meaning: 'The request holds no file: send the bundle (or image) as the body or in the form field the message names. 415 when the body is neither.',
  },
  UPLOAD_TOO_LARGE: { status: 413, meaning: 'The file is larger than the upload limit. Make it smaller.' },
  INGEST_ACTIVITY_DISABLED: {
    status: 409,
    meaning:
      "The editors disabled this activity, so it takes no new versions. Its review history tells why; reply to the editors. (In an upload's report the upload is answered 422.)",
  },
  AUTHOR_EXISTS: { status: 409, meaning: 'This person is an author of the activity already.' },
  AUTHOR_ROLE_INVALID: { status: 400, meaning: 'An author is an owner or a developer.' },
  LAST_OWNER: { status: 409, meaning: 'An activity keeps at least one owner. Make someone else an owner first, or transfer ownership.' },
  TRANSFER_TO_SELF: { status: 409, meaning: 'The activity is yours already.' },
  LISTING_FIELD_INVALID: { status: 400, meaning: 'A listing field holds control characters. Remove them.' },
  LISTING_FIELD_TOO_LONG: { status: 400, meaning: 'A listing field is longer than it may be.' },
  LISTING_LINK_INVALID: { status: 400, meaning: 'A listing link is not an http:// or https:// address.' },
  LISTING_LOCALE_INVALID: { status: 400, meaning: 'The language of a text is not a locale tag (like en, es, pt-BR).' },
  LISTING_CATEGORY_UNKNOWN: { status: 400, meaning: 'A category is not one the store has. Choose from the list.' },
  LISTING_TOO_MANY_TAGS: { status: 400, meaning: 'An activity has at most 20 tags.' },
  VERSION_BAD_SUGAR_RANGE: { status: 400, meaning: "A version's Sugar range is not two Sugar versions (like 0.112), the lower first." },
  SCREENSHOT_NOT_FOUND: { status: 404, meaning: 'The activity has no screenshot with this id.' },
  SCREENSHOT_NOT_IMAGE: { status: 415, meaning: 'A screenshot is a PNG, JPEG or WebP image.' },
  SCREENSHOT_TOO_LARGE: { status: 413, meaning: 'The screenshot file is larger than its byte limit.' },
  SCREENSHOT_TOO_BIG: { status: 400, meaning: 'The screenshot has more pixels than allowed. Scale it down.' },
  SCREENSHOT_TOO_SMALL: { status: 400, meaning: 'The screenshot has fewer pixels than the minimum.' },
  SCREENSHOT_TOO_MANY: { status: 409, meaning: 'The activity has the most screenshots it may have. Delete one first.' },
  NOMINATE_NO_FILE: { status: 409, meaning: 'There is nothing to nominate for review: upload a version first.' },
  NOMINATE_BAD_STATUS: { status: 409, meaning: 'Only a sandbox activity can be nominated (a nominated one awaits the editors already).' },
  NOTHING_TO_REVIEW: { status: 404, meaning: 'The activity has no version to review.' },
  REVIEW_BAD_STATUS: { status: 409, meaning: "The review decision does not apply to the activity's present status (for example it is not nominated)." },
  REVIEW_ACTION_INVALID: { status: 400, meaning: 'The review action is not one of the listed decisions.' },
  REVIEW_ADMIN_ONLY: { status: 403, meaning: 'An editor asked an administrator to decide on this activity.' },
  REVIEW_OWN_ACTIVITY: { status: 403, meaning: 'Editors do not review an activity they are (or were) an author of: another editor must.' },
  REVIEW_BODY_INVALID: { status: 400, meaning: 'The review request body is not of the documented shape (a list of version strings).' },
  REVIEW_VERSIONS_REQUIRED: { status: 400, meaning: 'A decision names the versions it covers. List them.' },
  REVIEW_VERSION_UNKNOWN: { status: 400, meaning: "A version named in the decision is not one of the activity's." },
  REVIEW_STALE: { status: 409, meaning: 'The versions under review changed since the page was loaded. Reload it and decide again.' },
  COMMENT_REQUIRED: { status: 400, meaning: 'A comment is required: tell the authors what was decided and why.' },
  COMMENT_TOO_LONG: { status: 400, meaning: 'The comment is longer than it may be.' },
  COMMENT_INVALID: { status: 400, meaning: 'The comment holds a NUL character.' },
  REASON_REQUIRED: { status: 400, meaning: 'This change needs a reason (kept in the audit log).' },
  LEGACY_ID_INVALID: { status: 400, meaning: "A legacy id is a positive whole number (the number in the old store's address)." },
  LEGACY_ID_TAKEN: { status: 409, meaning: 'The legacy id belongs to another activity.' },
  SOURCE_URL_INVALID: { status: 400, meaning: 'The source is not a valid https:// URL of a git repository.' },
  SOURCE_NOT_SET: { status: 409, meaning: 'The activity has no source repository to build from. Set it on its settings page first.' },
  HOOK_BAD_REQUEST: { status: 400, meaning: 'A webhook delivery is a JSON body (or a form with the JSON in its `payload` field) of a supported forge event.' },
  HOOK_BAD_SIGNATURE: { status: 401, meaning: 'The delivery is not signed with the hook secret of an activity built from this repository.' },
  HOOK_REPLAYED: { status: 409, meaning: 'This webhook delivery was received before; it is not acted on twice.' },
  HOOK_UNKNOWN_REPOSITORY: { status: 404, meaning: 'No activity here is built from this repository.' },
} as const satisfies Group;

/** Ratings, reviews by users, flags and moderation. */
const RATINGS = {
  RATING_INVALID: { status: 400, meaning: 'A rating is a whole number from 1 to 5.' },
  RATING_OWN_ACTIVITY: { status: 403, meaning: 'Authors do not rate their own activity; they reply to reviews instead.' },
  FIELD_REQUIRED: { status: 400, meaning: 'A required field is empty.' },
  FIELD_TOO_LONG: { status: 400, meaning: 'A field is longer than it may be.' },
  REVIEW_NOT_FOUND: { status: 404, meaning: 'No user review has this id.' },
  REPLY_EXISTS: { status: 409, meaning: 'The authors replied to this review already (one reply per review).' },
  FLAG_EXISTS: { status: 409, meaning: 'This account flagged this review already.' },
  FLAG_OWN_REVIEW: { status: 403, meaning: 'A review cannot be flagged by its writer; edit it instead.' },
  FLAG_REASON_INVALID: { status: 400, meaning: 'The flag reason is not one of the listed reasons.' },
  REPORT_NOT_FOUND: { status: 404, meaning: 'No open report has this id.' },
  REPORT_REASON_INVALID: { status: 400, meaning: 'The report reason is not one of the listed reasons.' },
  MODERATION_INVALID: { status: 400, meaning: 'The moderation action is not one of the listed actions.' },
} as const satisfies Group;

/** Building a bundle from a git repository (docs/building.md): raised as BuildError, 422. */
const BUILDING = {
  BUILD_SOURCE_UNSUPPORTED: { status: 422, meaning: 'The source is not an https://, http://, git:// or file:// URL or a local path.' },
  BUILD_SOURCE_NOT_FOUND: { status: 422, meaning: 'The local source folder does not exist.' },
  BUILD_GIT_MISSING: { status: 422, meaning: "git cannot be run on the store's machine. Install git." },
  BUILD_GIT_UNREACHABLE: { status: 422, meaning: 'The repository cannot be reached. Check its URL and the network.' },
  BUILD_GIT_AUTH_REQUIRED: { status: 422, meaning: 'The repository asks for credentials; the store builds only from public repositories.' },
  BUILD_GIT_TIMEOUT: { status: 422, meaning: 'A git command took longer than its time limit.' },
  BUILD_GIT_TOO_LARGE: { status: 422, meaning: "The commit's files are larger than the build limit." },
  BUILD_GIT_FAILED: { status: 422, meaning: 'A git command failed; the message carries its last lines.' },
  BUILD_REF_NOT_FOUND: { status: 422, meaning: 'The tag, branch or commit does not exist in the repository.' },
  BUILD_NO_INFO: { status: 422, meaning: 'The commit has no activity/activity.info (nor library/library.info).' },
  BUILD_INFO_INVALID: { status: 422, meaning: "The commit's activity.info is not valid (the message lists why)." },
  BUILD_PATH_WHITESPACE: { status: 422, meaning: 'A file name starts or ends with white space. Rename the file.' },
  BUILD_PATH_INVALID: { status: 422, meaning: 'A file name of the commit is not UTF-8 or cannot be in a bundle.' },
  BUILD_SUBMODULE: { status: 422, meaning: 'The commit has a git submodule; vendor its files or drop it.' },
  BUILD_SYMLINK_OUTSIDE: { status: 422, meaning: 'A symbolic link points outside the repository.' },
  BUILD_SYMLINK_DANGLING: { status: 422, meaning: 'A symbolic link points nowhere or loops.' },
  BUILD_PROVENANCE_CONFLICT: { status: 422, meaning: "The repository has a file with the name of the store's provenance record. Rename it." },
  BUILD_PO_INVALID: { status: 422, meaning: 'A PO file cannot be parsed (the message gives file and line).' },
  BUILD_PO_BAD_NAME: { status: 422, meaning: "A PO file's name is not a language name." },
  BUILD_PO_CHARSET: { status: 422, meaning: "A PO file's translation of the name or summary is not valid in its declared charset." },
  BUILD_VALIDATION_FAILED: { status: 422, meaning: 'The built bundle would be refused at upload (the message lists the bundle codes).' },
  BUILD_OUTPUT_EXISTS: { status: 422, meaning: 'The output file exists already. Remove it or choose another name.' },
  BUILD_VERIFY_NO_SOURCE: { status: 422, meaning: 'The bundle records no source: it was not built by the store, so it cannot be verified.' },
  BUILD_VERIFY_UNREADABLE: { status: 422, meaning: 'The file to verify is not a readable zip archive.' },
} as const satisfies Group;

/**
 * The command line, the control socket and starting the store. These reach the terminal as
 * "aslo: <message> [CODE]" with exit status 1; their HTTP status is unused.
 */
const OPERATIONS = {
  CONFIG_INVALID: { status: 400, meaning: 'A configuration value has the wrong type or is out of range. Fix the key the message names.' },
  CONFIG_UNKNOWN_KEY: {
    status: 400,
    meaning: 'A configuration file has a key the store does not know. Check its spelling against the documented default config.',
  },
  CONFIG_UNREADABLE: { status: 400, meaning: 'A configuration file cannot be read or parsed.' },
  CONFIG_SECRET_IN_FILE: {
    status: 400,
    meaning: 'A secret (or a password in a URL) was about to be written to a config file. Give it in the environment or secrets.yaml.',
  },
  CONFIG_MISSING_SECRET: {
    status: 400,
    meaning: 'The session or signing key is missing. Set them in the environment, or run "aslo serve" once to generate them.',
  },
  CONFIG_BAD_INSTANCE_NAME: { status: 400, meaning: 'An instance name is 1 to 40 lowercase letters, digits or hyphens, starting with a letter.' },
  INSTANCE_EXISTS: { status: 400, meaning: 'The instance exists already.' },
  INSTANCE_NOT_FOUND: { status: 400, meaning: 'There is no instance of this name in the data folder.' },
  KEYS_BAD_SIGNING_KEY: { status: 400, meaning: "The instance's signing key cannot be used. Set ASLO_SECRET_SIGNING_KEY to an Ed25519 private key." },
  DATA_DIR_IN_USE: {
    status: 503,
    meaning: 'The embedded database is in use by another process (the message names it). Stop it, or run the command through the running store.',
  },
  DATA_DIR_LOCK_FAILED: { status: 400, meaning: 'The lock of the embedded database cannot be checked or taken (the message says why).' },
  DATA_DIR_PATH_TOO_LONG: { status: 400, meaning: "The data folder's path is too long for its lock socket. Move it to a shorter path." },
  DB_UNREACHABLE: { status: 503, meaning: 'PostgreSQL cannot be reached at database.url. Check that the server runs and the URL is right.' },
  DB_EMBEDDED_OPEN_FAILED: { status: 503, meaning: 'The embedded database cannot be opened (the message says why).' },
  CONTROL_NOT_ALLOWED: { status: 400, meaning: 'This command does not run through the running store. Stop the store first.' },
  CONTROL_UNREACHABLE: { status: 400, meaning: 'The running store stopped before the command could be sent to it. Run the command again.' },
  CONTROL_LOST: { status: 400, meaning: 'The store closed the connection before the command finished. Check what it did, then run it again if needed.' },
  CONTROL_BAD_REQUEST: { status: 400, meaning: 'The store did not understand a control request (a client of another version).' },
  CONTROL_ERROR: { status: 400, meaning: 'The store refused a command sent to it without giving a code.' },
  SERVE_BAD_ROLE: { status: 400, meaning: 'The server role is not all, web, download or worker.' },
  SERVE_PORT_UNAVAILABLE: { status: 400, meaning: 'The store cannot listen on its host and port (in use, or not allowed for this user).' },
  SERVE_WORKERS_NEED_POSTGRES: {
    status: 400,
    meaning: 'Several worker processes need PostgreSQL; the embedded database belongs to one process. Use --workers 1 or set database.url.',
  },
  BACKUP_EXISTS: { status: 400, meaning: 'The backup folder holds a backup already. Choose a new folder.' },
  RESTORE_NOT_A_BACKUP: { status: 400, meaning: 'The folder is not a finished backup (no readable manifest).' },
  RESTORE_DAMAGED: { status: 400, meaning: 'A file of the backup differs from its manifest or is missing. Nothing was changed.' },
  RESTORE_NEWER_SCHEMA: { status: 400, meaning: 'The backup was made by a newer aslo. Upgrade, then restore again.' },
  RESTORE_NOT_EMPTY: {
    status: 400,
    meaning: 'The instance has activities or users already; restoring replaces everything. Run with --force if that is meant.',
  },
  CLONE_SAME_INSTANCE: { status: 400, meaning: 'An instance cannot be copied onto itself.' },
  CLONE_SAME_DATABASE: { status: 400, meaning: 'Both instances use the same database. Give the target its own.' },
  CLONE_TARGET_NOT_EMPTY: {
    status: 400,
    meaning: 'The target instance has activities or users already; copying replaces everything. Run with --force if that is meant.',
  },
  GENERATE_BAD_OPTION: { status: 400, meaning: 'An option of "aslo catalog generate" is out of range.' },
  GENERATE_EXISTS: { status: 400, meaning: 'The catalog holds activities generated with this seed already. Use another --seed, or --replace.' },
  SAMPLE_REJECTED: { status: 400, meaning: 'A sample bundle was refused by the validator (the message lists why).' },
  PUBLISH_UNREACHABLE: { status: 400, meaning: '"aslo publish" cannot reach the store. Check --server (or ASLO_SERVER) and that the store runs.' },
  STORE_BAD_KEY: { status: 400, meaning: 'A storage key is not of the form the file store takes (a bug of the caller).' },
} as const satisfies Group;

/** The groups of docs/errors.md, in order. */
export const ERROR_GROUPS: readonly { title: string; note?: string; codes: Group }[] = [
  {
    title: 'Requests',
    note: 'What any address can answer: the request guard, the router and the error classifier (src/platform/errors.ts classifyError).',
    codes: REQUESTS,
  },
  { title: 'Accounts, tokens and permissions', codes: ACCOUNTS },
  { title: 'Catalog, store pages, collections and updates', codes: CATALOG },
  { title: 'Downloads and mirrors', codes: DOWNLOADS },
  { title: 'Publishing and review', codes: PUBLISHING },
  { title: 'Ratings and user reviews', codes: RATINGS },
  { title: 'Building from source', note: 'Raised by the source builder (docs/building.md), answered 422.', codes: BUILDING },
  {
    title: 'Command line and operations',
    note: 'Printed as "aslo: <message> [CODE]" with exit status 1; the status is that of the few that can also reach a request (a database that is away).',
    codes: OPERATIONS,
  },
];

/** Every code an error can carry. */
export const ERRORS = { ...REQUESTS, ...ACCOUNTS, ...CATALOG, ...DOWNLOADS, ...PUBLISHING, ...RATINGS, ...BUILDING, ...OPERATIONS } as const satisfies Group;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

/** The status an error of this code is answered with (400 for a code this store does not know, such as one from another version). */
export function statusOf(code: string): number {
  return isErrorCode(code) ? ERRORS[code].status : 400;
}

/**
 * Codes that are reported, not thrown: in an upload's report, a build log or an import row, next
 * to the bundle inspector's codes (src/bundles/errors.ts, meanings in src/bundles/README.md).
 */
export const REPORTED_CODES = {
  INGEST_NOT_AUTHOR:
    "The bundle id belongs to another activity's authors; only they can publish versions of it. Use your own bundle id. The upload is answered 403.",
  INGEST_VERSION_EXISTS:
    'The activity has this version number already, with a different file. Raise activity_version and build again. The upload is answered 409.',
  INGEST_CONFLICT: 'Another upload of this version finished at the same moment. Check the catalog, then retry if it is missing. The upload is answered 409.',
  INGEST_KIND_MISMATCH: 'The bundle id belongs to an activity of the other kind (activity or content bundle). The upload is answered 422.',
  INGEST_BAD_SUGAR_RANGE: 'The Sugar range given with the upload is not two Sugar versions, the lower first. The upload is answered 422.',
  BUNDLE_ID_UNSAFE_CHARACTERS:
    'A new bundle id holds bidirectional controls, invisible characters or characters Sugar misreads in update feeds. Use a plain reverse-DNS id. The upload is answered 422.',
  BUNDLE_ID_MIXED_SCRIPT:
    'A part of a new bundle id mixes letters of different scripts, so it can pass for another id. Write each part in one script. The upload is answered 422.',
  BUNDLE_ID_CONFUSABLE:
    "A new bundle id looks the same as another author's (ignoring case and look-alike characters). Choose a clearly different id. The upload is answered 422.",
  TOKEN_IN_BUNDLE_REVOKED: 'An API token was found in the uploaded file and revoked; its owner was mailed. Never put tokens in a bundle.',
  BUILD_BUNDLE_ID_MISMATCH: "Publishing from git: the repository builds another bundle id than the activity's.",
  BUILD_VERSION_NOT_NEWER: "Publishing from git: the tag's activity_version is not newer than the activity's newest. Raise it and tag again.",
  BUILD_INTERNAL_ERROR: 'Publishing from git: an unexpected failure (its message is in the log). Ask again.',
  BUILD_TRACKED_LOCALE: 'Build warning: tracked files under locale/ were left out or shipped once.',
  BUILD_PO_EMPTY: 'Build warning: a PO file has nothing to compile; its language was left out.',
  BUILD_PO_CHARSET_UNKNOWN: "Build warning: a PO file's charset is missing or unknown; its ASCII translations were used.",
  BUILD_PLURAL_FORMS_INVALID: "Build warning: a PO file's Plural-Forms expression is invalid; plural(1) was taken as 0.",
  BUILD_SETUP_PY_CUSTOM: 'Build warning: setup.py does more than bundlebuilder.start(); it was not run.',
  BUILD_GITATTRIBUTES: 'Build warning: .gitattributes is ignored; the committed bytes were shipped.',
  IMPORT_LEGACY_ID_TAKEN: '"aslo import-git": the legacy id belongs to another activity; that repository\'s builds are refused.',
  IMPORT_FAILED: '"aslo import-git": a repository failed for a reason without a code of its own (the message says why).',
} as const satisfies Record<string, string>;
