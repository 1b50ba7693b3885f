// Configuration: one YAML file per data folder, an optional per-instance override file, then
// environment variables, which override any key. The keys, their types and defaults are declared
// once, in config-schema.ts. Secrets never live in these files: they come from the environment
// or from a secrets file inside the data folder (outside the repository).
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import Value from 'typebox/value';
import type { TSchema } from 'typebox';
import YAML from 'yaml';
import { ConfigSchema, configKeys, envName, isSection, renderDefaultConfig, type ConfigSettings } from './config-schema.js';
import { AsloError } from './errors.js';

/** The resolved configuration of one instance: every key of the schema, then where it lives. */
export interface AsloConfig extends ConfigSettings {
  /** Name of the selected instance. */
  instance: string;
  /** Root data folder holding config.yaml, secrets and every instance's folder. */
  dataDir: string;
  /** Folder of the selected instance (database, file stores, outbox). */
  instanceDir: string;
  /** The config file that was read (or would be written). */
  configFile: string;
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

/** The documented config.yaml written on first run, from the schema. */
export const DEFAULT_CONFIG_TEXT = renderDefaultConfig();

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep-merge `over` into `base`, accepting only keys the schema declares (typos are errors) and
 * turning each value into the key's type.
 */
function mergeKnown(base: Record<string, unknown>, schema: TSchema, over: unknown, source: string, path: string[] = []): void {
  if (over === null || over === undefined) return;
  if (!isObject(over)) {
    throw new AsloError('CONFIG_INVALID', `${source}: ${path.join('.') || 'the file'} must be a mapping.`);
  }
  const known = (schema as { properties: Record<string, TSchema> }).properties;
  for (const [key, value] of Object.entries(over)) {
    if (path.length === 0 && key === 'secrets') {
      throw new AsloError(
        'CONFIG_SECRET_IN_FILE',
        `${source}: secrets do not belong in a config file. Move them to the environment (ASLO_SECRET_*) or to the instance's secrets.yaml.`,
      );
    }
    // Own keys only: "constructor" or "__proto__" in a file must not reach the object's prototype.
    if (!Object.hasOwn(known, key)) {
      throw new AsloError(
        'CONFIG_UNKNOWN_KEY',
        `${source}: unknown key "${[...path, key].join('.')}". Check its spelling against the documented default config.`,
      );
    }
    const child = known[key]!;
    if (isSection(child)) {
      mergeKnown(base[key] as Record<string, unknown>, child, value, source, [...path, key]);
    } else {
      base[key] = coerce(child, value, source, [...path, key]);
    }
  }
}

/** A value from a file or the environment as the key's type: files may write "8080", variables always do. */
function coerce(schema: TSchema, value: unknown, source: string, path: string[]): unknown {
  const where = `${source}: ${path.join('.')}`;
  const type = (schema as { type?: unknown }).type;
  if (type === 'number' || type === 'integer') {
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isFinite(n)) throw new AsloError('CONFIG_INVALID', `${where} must be a number, got "${String(value)}".`);
    return n;
  }
  if (type === 'boolean') {
    if (typeof value === 'boolean') return value;
    const s = String(value).trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    throw new AsloError('CONFIG_INVALID', `${where} must be true or false, got "${String(value)}".`);
  }
  if (type === 'array') {
    if (Array.isArray(value)) return value.map(String);
    return String(value)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  if (value === null || value === undefined) return '';
  return String(value);
}

/** The section or value at a path of the configuration. */
function valueAt(cfg: Record<string, unknown>, path: string[]): Record<string, unknown> {
  return path.reduce((obj, key) => obj[key] as Record<string, unknown>, cfg);
}

/** Apply the ASLO_* variable of every key (and its alias, when the key's own variable is unset). */
function applyEnv(cfg: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const { path, schema } of configKeys()) {
    // An empty variable counts as unset, as shells and service managers often leave them so.
    const names = [envName(path), ...(typeof schema.envAlias === 'string' ? [schema.envAlias] : [])];
    const name = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (name) valueAt(cfg, path.slice(0, -1))[path.at(-1)!] = coerce(schema, env[name], `environment ${name}`, path);
  }
}

/** The schema's own limits (a port number's range), checked once every source has been applied. */
function validate(cfg: ConfigSettings): void {
  for (const error of Value.Errors(ConfigSchema, cfg)) {
    const path = error.instancePath.split('/').filter(Boolean);
    const key = configKeys().find((k) => k.path.join('/') === path.join('/'));
    const invalid = typeof key?.schema.invalid === 'string' ? key.schema.invalid : error.message;
    throw new AsloError('CONFIG_INVALID', `${path.join('.')} ${invalid}, got ${String(valueAt(cfg as unknown as Record<string, unknown>, path))}.`);
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

  const cfg = Value.Create(ConfigSchema) as ConfigSettings;
  const merge = (file: string) => mergeKnown(cfg as unknown as Record<string, unknown>, ConfigSchema, readYaml(file), file);
  if (existsSync(configFile)) merge(configFile);
  const instanceFile = join(instanceDir, 'instance.yaml');
  if (existsSync(instanceFile)) merge(instanceFile);
  applyEnv(cfg as unknown as Record<string, unknown>, env);
  if (opts.port !== undefined) cfg.server.port = opts.port;
  validate(cfg);

  const out = cfg as AsloConfig;
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
    writeFileAtomic(file, '# Secrets of this instance. Keep this file private (mode 0600); never commit it.\n' + YAML.stringify(stored), 0o600);
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
