// Configuration: one YAML file per data folder, an optional per-instance override file, then
// environment variables, which override any key. Secrets never live in these files: they come
// from the environment or from a secrets file inside the data folder (outside the repository).
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { AsloError } from './errors.js';

export interface BundleLimitsConfig {
  maxEntries: number;
  maxUncompressedBytes: number;
  maxCompressionRatio: number;
  maxEntryBytes: number;
  maxUploadBytes: number;
}

export interface AsloConfig {
  /** Name of the selected instance. */
  instance: string;
  /** Root data folder holding config.yaml, secrets and every instance's folder. */
  dataDir: string;
  /** Folder of the selected instance (database, file stores, outbox). */
  instanceDir: string;
  /** The config file that was read (or would be written). */
  configFile: string;
  server: {
    host: string;
    port: number;
    /** Public base URL of this instance, used in every absolute link (updater RDF, feeds). */
    baseUrl: string;
    /** Addresses of reverse proxies whose X-Forwarded-For may be trusted. */
    trustedProxies: string[];
    logLevel: string;
  };
  database: {
    /** PostgreSQL URL; empty means the embedded PGlite database in the instance folder. */
    url: string;
    /** PGlite data folder; ':memory:' keeps it in memory (tests). */
    embeddedDir: string;
    poolSize: number;
    /** Apply pending migrations when the server starts (always on for the embedded database). */
    migrateOnStart: boolean;
    /** PostgreSQL URLs of read replicas of `url` (streaming replication); reads are spread over them. */
    replicas: string[];
    /** A replica further behind the primary than this, in seconds, is skipped for reads. */
    maxReplicaLagSeconds: number;
    /** After writing, a client reads from the primary for this many seconds (longer than the lag limit). */
    readYourWritesSeconds: number;
  };
  cache: {
    /** Redis URL; empty means in-process cache only. */
    redisUrl: string;
    /** Prefix of every cache key and channel, so instances sharing one Redis never collide. */
    prefix: string;
    /** Entries kept in each process's in-process cache (0: none). */
    lruEntries: number;
    /** Life of a cached value, in seconds (writes invalidate at once; counters may lag by this). */
    ttlSeconds: number;
  };
  storage: {
    /** Content-addressed store of every uploaded file. */
    filesDir: string;
    /** The public repo tree that mirrors rsync from. */
    repoDir: string;
    /** Where mail is written when no SMTP server is configured. */
    outboxDir: string;
  };
  bundles: BundleLimitsConfig;
  updates: {
    cacheMaxAge: number;
    /** Sugar range of each runtime, "MIN-MAX" (either side may be empty): the default range and the hard bound (docs/updates.md). */
    runtimeRanges: { python2: string; python3: string; web: string; other: string };
    /** Update pings are counted in memory and written to the database this often, in seconds. */
    pingFlushSeconds: number;
    /** Rebuild the in-memory update index from the database this often, in seconds, as a safety net behind change notifications (0: never). */
    indexRefreshSeconds: number;
  };
  sample: {
    /** Load the project's own sample activities into an empty catalog at start. */
    loadOnStart: boolean;
  };
  mail: {
    /** SMTP server (smtp://host:587 or smtps://user@host:465); empty: write mail to storage.outboxDir. The password comes from the secret smtpPassword. */
    smtpUrl: string;
    /** Sender of every mail. */
    from: string;
  };
  accounts: {
    /** How long a browser session lasts without activity, in days. */
    sessionDays: number;
    /** Longest lifetime of a personal API token, in days. */
    tokenMaxDays: number;
    /** Only accounts with a verified e-mail address may upload. */
    requireVerifiedEmail: boolean;
  };
  downloads: {
    /** Base URL of the download role (repo tree, redirects); empty: server.baseUrl. */
    baseUrl: string;
    /** Files smaller than this are always served by the origin itself (bytes). */
    originThresholdBytes: number;
    /** Behind the change notifications, each process looks for changes it may have missed this often, in seconds (0: never). */
    indexRefreshSeconds: number;
    /** Alternatives listed in Link: rel=duplicate headers and the cap on their total size (bytes). */
    linkAlternatives: number;
    linkHeaderMaxBytes: number;
    /** Download counts are added up in memory and written this often, in seconds. */
    countFlushSeconds: number;
  };
  mirrors: {
    /** Health check of every mirror (HTTP and HTTPS separately), in seconds. */
    healthIntervalSeconds: number;
    /** Retry delays of a file not (yet) verified on a mirror, in seconds; the last one repeats. */
    verifyBackoffSeconds: string[];
    /** How often due verifications are looked for, in seconds. */
    verifySweepSeconds: number;
    /** Checks run at the same time (all mirrors together). */
    verifyConcurrency: number;
    /** Timeout of one request to a mirror, in milliseconds. */
    requestTimeoutMs: number;
    /** Every this many health rounds, one verified file per mirror is also range-read and hashed (0: never). */
    spotCheckEvery: number;
    /** Verified files HEAD-checked on each mirror per health round. */
    healthSampleFiles: number;
  };
  geo: {
    /** MaxMind-format city databases (flat ip-location-db records); empty: the npm package's files. */
    cityIpv4: string;
    cityIpv6: string;
    /** ASN ranges as CSV (start,end,asn,name with numeric or textual addresses); empty: the npm package's files. */
    asnIpv4: string;
    asnIpv6: string;
  };
  jobs: {
    /** Run the background job worker inside `aslo serve` (roles all and worker). */
    enabled: boolean;
    concurrency: number;
    pollMs: number;
    leaseSeconds: number;
  };
  rateLimits: {
    /** Length of every rate-limit window, in seconds. */
    windowSeconds: number;
    loginPerAddress: number;
    /** The lockout of an account for browsers that never logged in to it (any address). */
    loginPerAccount: number;
    /** Logins to one account from one address (an IPv6 /64); also per device cookie. */
    loginPerAccountAddress: number;
    registerPerAddress: number;
    resetPerAddress: number;
    resetPerAccount: number;
    uploadPerAddress: number;
    uploadPerAccount: number;
    /** Abuse reports (anyone may send one, logged in or not). */
    reportPerAddress: number;
    reportPerAccount: number;
  };
}

export interface Secrets {
  sessionKey: string;
  /** Ed25519 private key (PKCS#8 PEM) used to sign the JSON index. */
  signingKey: string;
  /** Password of the SMTP account (mail.smtpUrl), when it needs one. */
  smtpPassword?: string;
}

export interface ConfigOptions {
  configFile?: string;
  instance?: string;
  dataDir?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** Write a documented default config and the data folder when missing (servers do; tests may not). */
  writeDefaults?: boolean;
}

const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

export function assertInstanceName(name: string): void {
  if (!INSTANCE_NAME.test(name)) {
    throw new AsloError(
      'CONFIG_BAD_INSTANCE_NAME',
      `Instance name "${name}" is not valid: use 1-40 lowercase letters, digits or hyphens, starting with a letter.`,
    );
  }
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ASLO_DATA_DIR) return resolve(env.ASLO_DATA_DIR);
  const xdg = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(xdg, 'aslo');
}

/** Settings shared by every instance unless it overrides them. Paths are filled in per instance. */
function baseDefaults(): Omit<AsloConfig, 'instance' | 'dataDir' | 'instanceDir' | 'configFile'> {
  return {
    server: { host: '0.0.0.0', port: 8080, baseUrl: '', trustedProxies: ['127.0.0.1', '::1'], logLevel: 'info' },
    database: { url: '', embeddedDir: '', poolSize: 10, migrateOnStart: true, replicas: [], maxReplicaLagSeconds: 10, readYourWritesSeconds: 15 },
    cache: { redisUrl: '', prefix: '', lruEntries: 5000, ttlSeconds: 300 },
    storage: { filesDir: '', repoDir: '', outboxDir: '' },
    bundles: {
      maxEntries: 20000,
      maxUncompressedBytes: 2 * 1024 ** 3,
      maxCompressionRatio: 200,
      maxEntryBytes: 1024 ** 3,
      maxUploadBytes: 512 * 1024 ** 2,
    },
    updates: {
      cacheMaxAge: 3600,
      runtimeRanges: { python2: '0.82-0.116', python3: '0.116-', web: '0.100-', other: '0.82-' },
      pingFlushSeconds: 5,
      indexRefreshSeconds: 300,
    },
    sample: { loadOnStart: true },
    mail: { smtpUrl: '', from: 'Sugar activities <noreply@localhost>' },
    accounts: { sessionDays: 30, tokenMaxDays: 366, requireVerifiedEmail: true },
    downloads: { baseUrl: '', originThresholdBytes: 4096, indexRefreshSeconds: 60, linkAlternatives: 4, linkHeaderMaxBytes: 1024, countFlushSeconds: 30 },
    mirrors: {
      healthIntervalSeconds: 60,
      verifyBackoffSeconds: ['120', '300', '900', '1800', '3600'],
      verifySweepSeconds: 10,
      verifyConcurrency: 8,
      requestTimeoutMs: 10000,
      spotCheckEvery: 10,
      healthSampleFiles: 5,
    },
    geo: { cityIpv4: '', cityIpv6: '', asnIpv4: '', asnIpv6: '' },
    jobs: { enabled: true, concurrency: 2, pollMs: 1000, leaseSeconds: 120 },
    rateLimits: {
      windowSeconds: 900,
      loginPerAddress: 30,
      loginPerAccount: 10,
      loginPerAccountAddress: 5,
      registerPerAddress: 10,
      resetPerAddress: 10,
      resetPerAccount: 3,
      uploadPerAddress: 60,
      uploadPerAccount: 30,
      reportPerAddress: 10,
      reportPerAccount: 10,
    },
  };
}

export const DEFAULT_CONFIG_TEXT = `# aslo configuration.
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

server:
  host: 0.0.0.0
  port: 8080
  # Public address of the store; empty means http://localhost:<port>.
  baseUrl: ""
  # Reverse proxies whose X-Forwarded-For header is believed.
  trustedProxies: ["127.0.0.1", "::1"]
  logLevel: info

database:
  # A PostgreSQL URL (postgres://user@host:5432/aslo) for a scaled deployment.
  # Empty: the embedded PostgreSQL (PGlite) in the instance folder, no server needed.
  url: ""
  poolSize: 10
  migrateOnStart: true
  # Read replicas of that database (streaming replication), e.g. ["postgres://aslo@db2:5432/aslo"].
  # Reads are spread over them; a replica that is down or further behind than
  # maxReplicaLagSeconds is skipped; while the primary is down the store is read-only (writes
  # answer 503 with Retry-After) and recovers by itself. Passwords: PGPASSWORD or ~/.pgpass.
  replicas: []
  maxReplicaLagSeconds: 10
  # A client that wrote reads from the primary for this many seconds (read-your-writes).
  readYourWritesSeconds: 15

cache:
  # A Redis URL (redis://127.0.0.1:6379) shared by all processes. Empty: in-process cache only.
  redisUrl: ""
  # Empty: "aslo:<instance>:".
  prefix: ""
  # Entries kept in each process's in-process cache, in front of Redis (0: none).
  lruEntries: 5000
  # Life of a cached value in seconds. Every write invalidates what it changed at once, in every
  # process; only counters (downloads, users) may lag by up to this.
  ttlSeconds: 300

bundles:
  # Limits applied to every uploaded .xo/.xol before anything is stored.
  maxEntries: 20000
  maxUncompressedBytes: 2147483648
  maxCompressionRatio: 200
  maxEntryBytes: 1073741824
  maxUploadBytes: 536870912

updates:
  # Cache-Control max-age of the updater answers, in seconds.
  cacheMaxAge: 3600
  # Sugar versions each runtime runs on, MIN-MAX (an empty side means no limit). A version is
  # never offered outside its runtime's range, whatever its uploader said (docs/updates.md).
  runtimeRanges:
    python2: "0.82-0.116"
    python3: "0.116-"
    web: "0.100-"
    other: "0.82-"
  # Update pings are counted in memory and written to the database every this many seconds.
  pingFlushSeconds: 5
  # Full rebuild of the in-memory update index, behind the change notifications (0: never).
  indexRefreshSeconds: 300

sample:
  # Load the sample activities into an empty catalog at start.
  loadOnStart: true

mail:
  # An SMTP server (smtp://user@host:587, smtps://host:465). Its password comes from the
  # environment (ASLO_SECRET_SMTP_PASSWORD) or secrets.yaml (smtpPassword).
  # Empty: every mail is written to the instance's outbox folder; read it with "aslo dev outbox".
  smtpUrl: ""
  from: "Sugar activities <noreply@localhost>"

accounts:
  # Days a browser session lasts without being used.
  sessionDays: 30
  # Longest lifetime of a personal API token, in days.
  tokenMaxDays: 366
  # Only accounts with a verified e-mail address may upload.
  requireVerifiedEmail: true

downloads:
  # Base URL of the download role (the repo tree and redirects); empty: server.baseUrl.
  baseUrl: ""
  # Files smaller than this many bytes are served by the store itself, never redirected.
  originThresholdBytes: 4096
  # Changes reach every process by notification; behind that, each one looks for changes it
  # may have missed this often (seconds; 0: never).
  indexRefreshSeconds: 60
  # Alternatives sent as Link: rel=duplicate headers, and the cap on their total bytes.
  linkAlternatives: 4
  linkHeaderMaxBytes: 1024
  # Download counts are added up in memory and written this often (seconds): longer means fewer
  # rows to write (a pair counted many times is one row), at the price of counts appearing later.
  countFlushSeconds: 30

mirrors:
  # Health check of every mirror, HTTP and HTTPS separately (seconds).
  healthIntervalSeconds: 60
  # Retry delays (seconds) of a file not yet seen with the right bytes on a mirror; the last repeats.
  verifyBackoffSeconds: ["120", "300", "900", "1800", "3600"]
  verifySweepSeconds: 10
  verifyConcurrency: 8
  requestTimeoutMs: 10000
  # Every this many health rounds, one verified file per mirror is range-read and hashed.
  spotCheckEvery: 10
  # Verified files HEAD-checked on each mirror every health round (one missing: the mirror gets
  # no clients until all its files are checked again).
  healthSampleFiles: 5

geo:
  # Replace the geo databases shipped in the npm packages with newer files (empty: the package's).
  # City: MaxMind-format files with ip-location-db's flat records; ASN: CSV ranges.
  cityIpv4: ""
  cityIpv6: ""
  asnIpv4: ""
  asnIpv6: ""

jobs:
  # The background worker (publishing to the repo tree, mirror checks) inside "aslo serve".
  enabled: true
  concurrency: 2
  pollMs: 1000
  leaseSeconds: 120

rateLimits:
  # Requests allowed per window, per client address and per account. Shared by all processes
  # through Redis when cache.redisUrl is set.
  windowSeconds: 900
  loginPerAddress: 30
  # Logins: per address (all accounts), per account from one address, and per account for
  # browsers that never logged in to it (a browser that did carries a signed device cookie and
  # is held only by loginPerAccountAddress for that cookie). IPv6 addresses count per /64.
  loginPerAccount: 10
  loginPerAccountAddress: 5
  registerPerAddress: 10
  resetPerAddress: 10
  resetPerAccount: 3
  uploadPerAddress: 60
  uploadPerAccount: 30
  # Abuse reports on activities (anyone may send them, logged in or not).
  reportPerAddress: 10
  reportPerAccount: 10
`;

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge `over` into `base`, accepting only keys that exist in `base` (typos are errors). */
function mergeKnown(base: Record<string, unknown>, over: unknown, source: string, path: string[] = []): void {
  if (over === null || over === undefined) return;
  if (!isObject(over)) {
    throw new AsloError('CONFIG_INVALID', `${source}: ${path.join('.') || 'the file'} must be a mapping.`);
  }
  for (const [key, value] of Object.entries(over)) {
    if (path.length === 0 && key === 'secrets') {
      throw new AsloError(
        'CONFIG_SECRET_IN_FILE',
        `${source}: secrets do not belong in a config file. Move them to the environment (ASLO_SECRET_*) or to the instance's secrets.yaml.`,
      );
    }
    if (!(key in base)) {
      throw new AsloError('CONFIG_UNKNOWN_KEY', `${source}: unknown key "${[...path, key].join('.')}". Check its spelling against the documented default config.`);
    }
    const current = base[key];
    if (isObject(current)) {
      mergeKnown(current, value, source, [...path, key]);
    } else {
      base[key] = coerce(current, value, source, [...path, key]);
    }
  }
}

function coerce(current: unknown, value: unknown, source: string, path: string[]): unknown {
  const where = `${source}: ${path.join('.')}`;
  if (typeof current === 'number') {
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isFinite(n)) throw new AsloError('CONFIG_INVALID', `${where} must be a number, got "${String(value)}".`);
    return n;
  }
  if (typeof current === 'boolean') {
    if (typeof value === 'boolean') return value;
    const s = String(value).trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    throw new AsloError('CONFIG_INVALID', `${where} must be true or false, got "${String(value)}".`);
  }
  if (Array.isArray(current)) {
    if (Array.isArray(value)) return value.map(String);
    return String(value).split(',').map((s) => s.trim()).filter(Boolean);
  }
  if (value === null || value === undefined) return '';
  return String(value);
}

function envName(path: string[]): string {
  return 'ASLO_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Apply ASLO_* variables for every known leaf key. */
function applyEnv(base: Record<string, unknown>, env: NodeJS.ProcessEnv, path: string[] = []): void {
  for (const [key, current] of Object.entries(base)) {
    const p = [...path, key];
    if (isObject(current)) {
      applyEnv(current, env, p);
      continue;
    }
    const name = envName(p);
    // An empty variable counts as unset, as shells and service managers often leave them so.
    if (env[name] !== undefined && env[name] !== '') base[key] = coerce(current, env[name], `environment ${name}`, p);
  }
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AsloError('CONFIG_UNREADABLE', `Cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    return YAML.parse(text) as Json;
  } catch (err) {
    throw new AsloError('CONFIG_INVALID', `Config file ${file} is not valid YAML: ${(err as Error).message}`);
  }
}

export function writeFileAtomic(file: string, data: string | Buffer, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
  if (mode !== undefined) chmodSync(tmp, mode);
  renameSync(tmp, file);
}

export function instanceDirOf(dataDir: string, instance: string): string {
  return join(dataDir, 'instances', instance);
}

/**
 * Resolve the configuration for one instance. Order (later wins): built-in defaults, the config
 * file, the instance's instance.yaml, environment variables, explicit options (--port).
 */
export function loadConfig(opts: ConfigOptions = {}): AsloConfig {
  const env = opts.env ?? process.env;
  const dataDir = resolve(opts.dataDir ?? defaultDataDir(env));
  const instance = opts.instance ?? env.ASLO_INSTANCE ?? 'default';
  assertInstanceName(instance);
  const configFile = resolve(opts.configFile ?? env.ASLO_CONFIG ?? join(dataDir, 'config.yaml'));
  const instanceDir = instanceDirOf(dataDir, instance);

  if (!existsSync(configFile)) {
    if (opts.configFile) throw new AsloError('CONFIG_UNREADABLE', `Config file ${configFile} does not exist.`);
    if (opts.writeDefaults) writeFileAtomic(configFile, DEFAULT_CONFIG_TEXT);
  }

  const cfg = baseDefaults() as unknown as Record<string, unknown>;
  if (existsSync(configFile)) mergeKnown(cfg, readYaml(configFile), configFile);
  const instanceFile = join(instanceDir, 'instance.yaml');
  if (existsSync(instanceFile)) mergeKnown(cfg, readYaml(instanceFile), instanceFile);
  applyEnv(cfg, env);
  if (env.ASLO_PORT && !env.ASLO_SERVER_PORT) (cfg.server as Record<string, unknown>).port = coerce(8080, env.ASLO_PORT, 'environment ASLO_PORT', ['server', 'port']);

  const out = cfg as unknown as AsloConfig;
  if (opts.port !== undefined) out.server.port = opts.port;
  if (!Number.isInteger(out.server.port) || out.server.port < 0 || out.server.port > 65535) {
    throw new AsloError('CONFIG_INVALID', `server.port must be a port number (0-65535), got ${out.server.port}.`);
  }
  out.instance = instance;
  out.dataDir = dataDir;
  out.instanceDir = instanceDir;
  out.configFile = configFile;
  if (!out.server.baseUrl) out.server.baseUrl = `http://localhost:${out.server.port}`;
  out.server.baseUrl = out.server.baseUrl.replace(/\/+$/, '');
  out.downloads.baseUrl = (out.downloads.baseUrl || out.server.baseUrl).replace(/\/+$/, '');
  if (!out.database.embeddedDir) out.database.embeddedDir = join(instanceDir, 'db');
  if (!out.cache.prefix) out.cache.prefix = `aslo:${instance}:`;
  if (!out.storage.filesDir) out.storage.filesDir = join(instanceDir, 'files');
  if (!out.storage.repoDir) out.storage.repoDir = join(instanceDir, 'repo');
  if (!out.storage.outboxDir) out.storage.outboxDir = join(instanceDir, 'outbox');
  return out;
}

/** Write the data folder layout of an instance (idempotent). */
export function ensureInstanceFolders(cfg: AsloConfig): void {
  for (const dir of [cfg.instanceDir, cfg.storage.filesDir, cfg.storage.repoDir, cfg.storage.outboxDir]) {
    mkdirSync(dir, { recursive: true });
  }
}

/** Secrets: environment first, then the instance's secrets.yaml (generated on first run when allowed). */
export async function loadSecrets(cfg: AsloConfig, opts: { env?: NodeJS.ProcessEnv; generate?: boolean } = {}): Promise<Secrets> {
  const env = opts.env ?? process.env;
  const file = join(cfg.instanceDir, 'secrets.yaml');
  let stored: Partial<Secrets> = {};
  if (existsSync(file)) {
    const parsed = readYaml(file);
    if (isObject(parsed)) stored = parsed as Partial<Secrets>;
  }
  const secrets: Partial<Secrets> = {
    sessionKey: env.ASLO_SECRET_SESSION_KEY ?? stored.sessionKey,
    signingKey: env.ASLO_SECRET_SIGNING_KEY ?? stored.signingKey,
    smtpPassword: env.ASLO_SECRET_SMTP_PASSWORD ?? stored.smtpPassword,
  };
  const missing = !secrets.sessionKey || !secrets.signingKey;
  if (missing && opts.generate) {
    const { generateKeyPairSync } = await import('node:crypto');
    if (!stored.sessionKey) stored.sessionKey = randomBytes(32).toString('base64url');
    if (!stored.signingKey) {
      const { privateKey } = generateKeyPairSync('ed25519');
      stored.signingKey = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    }
    writeFileAtomic(
      file,
      '# Secrets of this instance. Keep this file private (mode 0600); never commit it.\n' + YAML.stringify(stored),
      0o600,
    );
    secrets.sessionKey ??= stored.sessionKey;
    secrets.signingKey ??= stored.signingKey;
  }
  if (!secrets.sessionKey || !secrets.signingKey) {
    throw new AsloError(
      'CONFIG_MISSING_SECRET',
      `Secrets are missing for instance "${cfg.instance}": set ASLO_SECRET_SESSION_KEY and ASLO_SECRET_SIGNING_KEY, or run "aslo serve" once to generate ${file}.`,
    );
  }
  return secrets as Secrets;
}

export function describeConfig(cfg: AsloConfig): Record<string, string> {
  return {
    instance: cfg.instance,
    config: cfg.configFile,
    data: cfg.instanceDir,
    database: cfg.database.url ? redactUrl(cfg.database.url) : `embedded (PGlite) at ${cfg.database.embeddedDir}`,
    cache: cfg.cache.redisUrl ? redactUrl(cfg.cache.redisUrl) : 'in-process',
    files: cfg.storage.filesDir,
    repo: cfg.storage.repoDir,
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}
