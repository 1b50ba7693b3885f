// The configuration, written once. Every key is declared here with its type and default; from this
// one schema come the TypeScript type of the configuration, the built-in defaults, the validation
// of config files and environment variables (src/platform/config.ts), the documented default
// config.yaml written on first run (renderDefaultConfig below), and the key table of
// docs/configuration.md (scripts/config-docs.ts, kept in step by a unit test).
//
// Annotations on a key, besides `default`:
//   description    what the key does, one line (the docs table)
//   defaultNote    what the default means (docs table): "empty: <note>" for an empty default,
//                  "`value` (<note>)" otherwise
//   fileComment    the comment written above the key in the default config.yaml (under the
//                  name for a top-level section): one line, or a list of lines
//   inDefaultFile  false: left out of the default config.yaml (paths filled in per instance)
//   envAlias       a second environment variable that sets the key when its own one is unset
//   invalid        how a value that the schema refuses is described: "<key> <invalid>, got <value>."
import Type, { type Static, type TSchema } from 'typebox';
import YAML from 'yaml';

interface KeyNotes {
  description: string;
  defaultNote?: string;
  fileComment?: string | string[];
  inDefaultFile?: false;
  envAlias?: string;
}

const text = (value: string, notes: KeyNotes) => Type.String({ default: value, ...notes });
const num = (value: number, notes: KeyNotes) => Type.Number({ default: value, ...notes });
const flag = (value: boolean, notes: KeyNotes) => Type.Boolean({ default: value, ...notes });
const list = (value: string[], notes: KeyNotes) => Type.Array(Type.String(), { default: value, ...notes });

/** A section of the file: only its own keys are accepted (a misspelt key is an error, not ignored). */
function section<P extends Parameters<typeof Type.Object>[0]>(properties: P, fileComment?: string | string[]) {
  return Type.Object(properties, { additionalProperties: false, ...(fileComment ? { fileComment } : {}) });
}

export const ConfigSchema = section({
  server: section({
    host: text('0.0.0.0', { description: 'address to listen on' }),
    port: Type.Integer({
      default: 8080,
      minimum: 0,
      maximum: 65535,
      description: 'port to listen on',
      envAlias: 'ASLO_PORT',
      invalid: 'must be a port number (0-65535)',
    }),
    baseUrl: text('', {
      description: 'public address, used in absolute links',
      defaultNote: '`http://localhost:<port>`',
      fileComment: 'Public address of the store; empty means http://localhost:<port>.',
    }),
    trustedProxies: list(['127.0.0.1', '::1'], {
      description: 'proxies whose X-Forwarded-For is believed',
      fileComment: 'Reverse proxies whose X-Forwarded-For header is believed.',
    }),
    logLevel: text('info', { description: 'log level (pino); debug adds one line per request' }),
    logFormat: text('auto', {
      description: 'log lines: json, pretty (for people), or auto (pretty when stdout is a terminal)',
      fileComment: 'Log lines: json, pretty (readable by people), or auto (pretty when stdout is a terminal).',
    }),
  }),
  database: section({
    url: text('', {
      description: 'PostgreSQL URL',
      defaultNote: 'embedded PGlite',
      fileComment: [
        'A PostgreSQL URL (postgres://user@host:5432/aslo) for a scaled deployment.',
        'Empty: the embedded PostgreSQL (PGlite) in the instance folder, no server needed.',
      ],
    }),
    embeddedDir: text('', {
      description: 'PGlite data folder (`:memory:`: in memory)',
      defaultNote: '`<instance>/db/`',
      inDefaultFile: false,
    }),
    poolSize: num(10, { description: 'connections per pool (primary and each replica)' }),
    migrateOnStart: flag(true, { description: 'apply migrations at start (always for PGlite)' }),
    replicas: list([], {
      description: 'read replica URLs',
      defaultNote: 'no replicas ([operations.md](operations.md))',
      fileComment: [
        'Read replicas of that database (streaming replication), e.g. ["postgres://aslo@db2:5432/aslo"].',
        'Reads are spread over them; a replica that is down or further behind than',
        'maxReplicaLagSeconds is skipped; while the primary is down the store is read-only (writes',
        'answer 503 with Retry-After) and recovers by itself. Passwords: PGPASSWORD or ~/.pgpass.',
      ],
    }),
    maxReplicaLagSeconds: num(10, { description: 'replica further behind is skipped' }),
    readYourWritesSeconds: num(15, {
      description: 'a writer reads from the primary this long',
      fileComment: 'A client that wrote reads from the primary for this many seconds (read-your-writes).',
    }),
  }),
  cache: section({
    redisUrl: text('', {
      description: 'shared Redis cache',
      defaultNote: 'in-process only',
      fileComment: 'A Redis URL (redis://127.0.0.1:6379) shared by all processes. Empty: in-process cache only.',
    }),
    prefix: text('', {
      description: 'prefix of cache keys and channels',
      defaultNote: '`aslo:<instance>:`',
      fileComment: 'Empty: "aslo:<instance>:".',
    }),
    lruEntries: num(5000, {
      description: "entries in each process's cache",
      defaultNote: '0: no in-process cache',
      fileComment: "Entries kept in each process's in-process cache, in front of Redis (0: none).",
    }),
    ttlSeconds: num(300, {
      description: 'life of a cached value',
      fileComment: [
        'Life of a cached value in seconds. Every write invalidates what it changed at once, in every',
        'process; only counters (downloads, users) may lag by up to this.',
      ],
    }),
  }),
  storage: section({
    filesDir: text('', { description: 'content-addressed store of uploads', defaultNote: '`<instance>/files/`', inDefaultFile: false }),
    repoDir: text('', { description: 'public repo tree mirrors rsync', defaultNote: '`<instance>/repo/`', inDefaultFile: false }),
    outboxDir: text('', { description: 'mail written here without SMTP', defaultNote: '`<instance>/outbox/`', inDefaultFile: false }),
  }),
  bundles: section(
    {
      maxEntries: num(20000, { description: 'files in an uploaded bundle' }),
      maxUncompressedBytes: num(2 * 1024 ** 3, { description: 'bundle size unpacked', defaultNote: '2 GiB' }),
      maxCompressionRatio: num(200, { description: 'unpacked / packed size of a file in a bundle' }),
      maxEntryBytes: num(1024 ** 3, { description: 'one file in a bundle, unpacked', defaultNote: '1 GiB' }),
      maxUploadBytes: num(512 * 1024 ** 2, { description: 'upload size', defaultNote: '512 MiB' }),
    },
    'Limits applied to every uploaded .xo/.xol before anything is stored.',
  ),
  updates: section({
    cacheMaxAge: num(3600, {
      description: 'Cache-Control max-age of updater answers (s)',
      fileComment: 'Cache-Control max-age of the updater answers, in seconds.',
    }),
    runtimeRanges: section(
      {
        python2: text('0.82-0.116', { description: 'Sugar range of Python 2 activities ([updates.md](updates.md))' }),
        python3: text('0.116-', { description: 'Sugar range of Python 3 activities' }),
        web: text('0.100-', { description: 'Sugar range of web activities' }),
        other: text('0.82-', { description: 'Sugar range of other activities' }),
      },
      [
        'Sugar versions each runtime runs on, MIN-MAX (an empty side means no limit). A version is',
        "never offered outside its runtime's range, whatever its uploader said (docs/updates.md).",
      ],
    ),
    pingFlushSeconds: num(5, {
      description: 'update pings written this often',
      fileComment: 'Update pings are counted in memory and written to the database every this many seconds.',
    }),
    indexRefreshSeconds: num(300, {
      description: 'full rebuild of the update index',
      defaultNote: '0: never',
      fileComment: 'Full rebuild of the in-memory update index, behind the change notifications (0: never).',
    }),
    indexWaitSeconds: num(10, {
      description: 'how long an update check waits for the index at start',
      defaultNote: 'then 503 UPDATE_INDEX_LOADING',
      fileComment: [
        'A process listens before its update index is loaded; an update check that arrives meanwhile',
        'waits this many seconds for it, then is answered 503 with Retry-After (docs/updates.md).',
      ],
    }),
  }),
  sample: section({
    loadOnStart: flag(true, {
      description: 'sample activities into an empty catalog',
      fileComment: 'Load the sample activities into an empty catalog at start.',
    }),
  }),
  mail: section({
    smtpUrl: text('', {
      description: 'SMTP server',
      defaultNote: 'write to `storage.outboxDir`',
      fileComment: [
        'An SMTP server (smtp://user@host:587, smtps://host:465). Its password comes from the',
        'environment (ASLO_SECRET_SMTP_PASSWORD) or secrets.yaml (smtpPassword).',
        'Empty: every mail is written to the instance\'s outbox folder; read it with "aslo dev outbox".',
      ],
    }),
    from: text('Sugar activities <noreply@localhost>', { description: 'sender of every mail' }),
  }),
  accounts: section({
    sessionDays: num(30, {
      description: 'idle life of a browser session (days)',
      fileComment: 'Days a browser session lasts without being used.',
    }),
    tokenMaxDays: num(366, {
      description: 'longest API token life (days)',
      fileComment: 'Longest lifetime of a personal API token, in days.',
    }),
    requireVerifiedEmail: flag(true, {
      description: 'only verified e-mail may upload',
      fileComment: 'Only accounts with a verified e-mail address may upload.',
    }),
  }),
  downloads: section({
    baseUrl: text('', {
      description: 'base URL of the download role',
      defaultNote: '`server.baseUrl`',
      fileComment: 'Base URL of the download role (the repo tree and redirects); empty: server.baseUrl.',
    }),
    originThresholdBytes: num(4096, {
      description: 'smaller files never redirected',
      fileComment: 'Files smaller than this many bytes are served by the store itself, never redirected.',
    }),
    indexRefreshSeconds: num(60, {
      description: 'look for missed changes this often',
      defaultNote: '0: never',
      fileComment: [
        'Changes reach every process by notification; behind that, each one looks for changes it',
        'may have missed this often (seconds; 0: never).',
      ],
    }),
    linkAlternatives: num(4, {
      description: 'Link: rel=duplicate alternatives',
      fileComment: 'Alternatives sent as Link: rel=duplicate headers, and the cap on their total bytes.',
    }),
    linkHeaderMaxBytes: num(1024, { description: 'cap on their total size' }),
    countFlushSeconds: num(30, {
      description: 'download counts written this often',
      fileComment: [
        'Download counts are added up in memory and written this often (seconds): longer means fewer',
        'rows to write (a pair counted many times is one row), at the price of counts appearing later.',
      ],
    }),
  }),
  mirrors: section({
    healthIntervalSeconds: num(60, {
      description: 'mirror health check interval',
      fileComment: 'Health check of every mirror, HTTP and HTTPS separately (seconds).',
    }),
    verifyBackoffSeconds: list(['120', '300', '900', '1800', '3600'], {
      description: 'retry delays of unverified files (last repeats)',
      fileComment: 'Retry delays (seconds) of a file not yet seen with the right bytes on a mirror; the last repeats.',
    }),
    verifySweepSeconds: num(10, { description: 'look for due verifications' }),
    verifyConcurrency: num(8, { description: 'checks at the same time' }),
    requestTimeoutMs: num(10000, { description: 'timeout of one mirror request (ms)' }),
    spotCheckEvery: num(10, {
      description: 'health rounds between hashed spot checks',
      defaultNote: '0: never',
      fileComment: 'Every this many health rounds, one verified file per mirror is range-read and hashed.',
    }),
    healthSampleFiles: num(5, {
      description: 'files HEAD-checked per mirror per round',
      fileComment: [
        'Verified files HEAD-checked on each mirror every health round (one missing: the mirror gets',
        'no clients until all its files are checked again).',
      ],
    }),
  }),
  geo: section(
    {
      cityIpv4: text('', { description: 'IPv4 city database', defaultNote: "the npm package's file" }),
      cityIpv6: text('', { description: 'IPv6 city database', defaultNote: "the npm package's file" }),
      asnIpv4: text('', { description: 'IPv4 ASN ranges (CSV)', defaultNote: "the npm package's file" }),
      asnIpv6: text('', { description: 'IPv6 ASN ranges (CSV)', defaultNote: "the npm package's file" }),
    },
    [
      "Replace the geo databases shipped in the npm packages with newer files (empty: the package's).",
      "City: MaxMind-format files with ip-location-db's flat records; ASN: CSV ranges.",
    ],
  ),
  jobs: section(
    {
      enabled: flag(true, { description: 'job worker inside `aslo serve`' }),
      concurrency: num(2, { description: 'jobs run at the same time' }),
      pollMs: num(1000, { description: 'look for due jobs (ms)' }),
      leaseSeconds: num(120, { description: 'job of a vanished worker is retaken after' }),
    },
    'The background worker (publishing to the repo tree, mirror checks) inside "aslo serve".',
  ),
  rateLimits: section(
    {
      windowSeconds: num(900, { description: 'length of every rate-limit window' }),
      loginPerAddress: num(30, {
        description: 'logins per window, per address (an IPv6 address counts as its /64, in every per-address limit)',
      }),
      loginPerAccount: num(10, {
        description: 'logins per window, per account, from browsers that never logged in to it (a device cookie lets the others past)',
        fileComment: [
          'Logins: per address (all accounts), per account from one address, and per account for',
          'browsers that never logged in to it (a browser that did carries a signed device cookie and',
          'is held only by loginPerAccountAddress for that cookie). IPv6 addresses count per /64.',
        ],
      }),
      loginPerAccountAddress: num(5, { description: 'logins per window to one account from one address, and per device cookie' }),
      registerPerAddress: num(10, { description: 'registrations per window, per address' }),
      resetPerAddress: num(10, { description: 'password resets and verification mails per window, per address' }),
      resetPerAccount: num(3, { description: 'password resets and verification mails per window, per account' }),
      uploadPerAddress: num(60, { description: 'uploads per window, per address' }),
      uploadPerAccount: num(30, { description: 'uploads per window, per account' }),
      reportPerAddress: num(10, {
        description: 'abuse reports per window, per address',
        fileComment: 'Abuse reports on activities (anyone may send them, logged in or not).',
      }),
      reportPerAccount: num(10, { description: 'abuse reports per window, per account' }),
    },
    ['Requests allowed per window, per client address and per account. Shared by all processes', 'through Redis when cache.redisUrl is set.'],
  ),
});

/** Every configuration key, by section. */
export type ConfigSettings = Static<typeof ConfigSchema>;

/** A leaf key of the schema with its path (['server', 'port']). */
export interface ConfigKey {
  path: string[];
  schema: TSchema & Record<string, unknown>;
}

export function isSection(schema: TSchema): schema is TSchema & { properties: Record<string, TSchema> } {
  return (schema as { type?: unknown }).type === 'object';
}

/** The leaf keys in declaration order (the order of the file and of the docs table). */
export function configKeys(schema: TSchema = ConfigSchema, path: string[] = []): ConfigKey[] {
  if (!isSection(schema)) return [{ path, schema: schema as ConfigKey['schema'] }];
  return Object.entries(schema.properties).flatMap(([name, child]) => configKeys(child, [...path, name]));
}

/** The environment variable of a key: ASLO_ + each level, camelCase words split by underscores. */
export function envName(path: string[]): string {
  return 'ASLO_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

const FILE_HEADER = `# aslo configuration.
#
# This file is safe to commit to a deployment repository: it must never hold secrets.
# Database passwords, the session key and the signing key come from the environment
# (ASLO_DATABASE_URL, ASLO_SECRET_SESSION_KEY, ASLO_SECRET_SIGNING_KEY) or from the
# secrets.yaml file that aslo writes, readable by its owner only, in each instance folder.
#
# Every key can be overridden by an environment variable: ASLO_ followed by the key path in
# upper case with underscores, for example server.port -> ASLO_SERVER_PORT,
# cache.redisUrl -> ASLO_CACHE_REDIS_URL, bundles.maxEntries -> ASLO_BUNDLES_MAX_ENTRIES.
# Lists take comma-separated values.
#
# Each instance (aslo instance create NAME) can override any of these keys in
# instances/NAME/instance.yaml; paths left empty are filled in inside the instance folder.
`;

/** A default as YAML: plain where it reads back as the same string, double-quoted otherwise. */
function yamlValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
  if (typeof value === 'string' && !(/^[A-Za-z0-9.:]+$/.test(value) && YAML.parse(value) === value)) return JSON.stringify(value);
  return String(value);
}

function commentLines(comment: unknown, indent: string): string {
  const lines = typeof comment === 'string' ? [comment] : Array.isArray(comment) ? comment : [];
  return lines.map((line) => `${indent}# ${String(line)}\n`).join('');
}

function entries(schema: TSchema): [string, TSchema & Record<string, unknown>][] {
  return Object.entries((schema as unknown as { properties: Record<string, TSchema & Record<string, unknown>> }).properties);
}

function listedInFile(schema: TSchema): boolean {
  return configKeys(schema).some((key) => key.schema.inDefaultFile !== false);
}

function renderSection(schema: TSchema, indent: string): string {
  let out = '';
  for (const [name, child] of entries(schema)) {
    if (!listedInFile(child)) continue;
    if (isSection(child)) out += `${commentLines(child.fileComment, indent)}${indent}${name}:\n${renderSection(child, indent + '  ')}`;
    else out += `${commentLines(child.fileComment, indent)}${indent}${name}: ${yamlValue(child.default)}\n`;
  }
  return out;
}

/** The documented config.yaml written on first run: the keys it lists, at their defaults. */
export function renderDefaultConfig(): string {
  const sections = entries(ConfigSchema)
    .filter(([, schema]) => listedInFile(schema))
    .map(([name, schema]) => `${name}:\n${commentLines(schema.fileComment, '  ')}${renderSection(schema, '  ')}`);
  return `${FILE_HEADER}\n${sections.join('\n')}`;
}
