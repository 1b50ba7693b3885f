// One migrated template database per test run, copied for every test database, so a test context
// costs a copy instead of an empty database plus every migration.
// - PGlite: the migrated data folder as a tarball (PGlite dumpDataDir) in the temporary folder,
//   which every ':memory:' database of this process then starts from (useMemoryTemplate).
// - PostgreSQL: a database aslo_template_<hash> on the test server, copied with
//   CREATE DATABASE ... TEMPLATE. Built under an advisory lock, so test processes starting at
//   once build it once.
// Both are named by a hash of the migrations (and of PGlite's version), so a change to the
// migrations builds a new template; branches with other migrations never share one.
// scripts/test.mjs builds the template before the test processes start (run this file).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { PgliteDialect } from '../../src/platform/db/pglite-dialect.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { openDatabase, useMemoryTemplate } from '../../src/platform/db/index.js';
import { loadConfig, type AsloConfig } from '../../src/platform/config.js';
import { GeoService, geoPaths } from '../../src/geo/index.js';
import type { Database } from '../../src/platform/db/schema.js';

const DB_DIR = fileURLToPath(new URL('../../src/platform/db/', import.meta.url));

// WAL in 1 MB segments instead of 16 MB: the one segment a fresh data folder holds is most of what
// every test database would otherwise unpack (42 MB of tarball become about 30 MB; a context
// costs about a quarter less CPU). Only the template is made so; nothing reads the segment size.
const PGLITE_INITDB_ARGS = ['--wal-segsize=1'];

/** A short hash of everything that shapes a freshly migrated database. */
export function migrationsHash(): string {
  const h = createHash('sha256');
  const pglitePackage = fileURLToPath(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url));
  const pgliteVersion = (JSON.parse(readFileSync(pglitePackage, 'utf8')) as { version: string }).version;
  h.update(`pglite ${pgliteVersion}\n`);
  h.update(`pglite initdb ${PGLITE_INITDB_ARGS.join(' ')}\n`);
  const files = [
    'migrate.ts',
    ...readdirSync(join(DB_DIR, 'migrations'))
      .sort()
      .map((f) => join('migrations', f)),
  ];
  for (const f of files) {
    h.update(`${f}\n`);
    h.update(readFileSync(join(DB_DIR, f)));
  }
  return h.digest('hex').slice(0, 16);
}

export function pgliteTemplatePath(): string {
  return join(tmpdir(), 'aslo-test-templates', `pglite-${migrationsHash()}.tar`);
}

/** Build the PGlite template tarball unless it exists; returns its path. */
export async function ensurePgliteTemplate(): Promise<string> {
  const path = pgliteTemplatePath();
  if (existsSync(path)) return path;
  mkdirSync(join(tmpdir(), 'aslo-test-templates'), { recursive: true });
  const pglite = await PGlite.create(undefined, { extensions: { pg_trgm, unaccent }, initDbStartParams: PGLITE_INITDB_ARGS });
  try {
    await migrateToLatest(new Kysely<Database>({ dialect: new PgliteDialect(pglite) }));
    // The migrations' WAL is written out and its segments recycled, not shipped in the tarball.
    await pglite.exec('checkpoint');
    const tarball = await pglite.dumpDataDir('none');
    // Written aside and renamed: a process reading it never sees half a file.
    const part = `${path}.${process.pid}.part`;
    writeFileSync(part, Buffer.from(await tarball.arrayBuffer()));
    renameSync(part, path);
  } finally {
    await pglite.close();
  }
  return path;
}

let pgliteReady: Promise<void> | null = null;

/** Make this process's new ':memory:' databases start from the migrated template. */
export function usePgliteTemplate(): Promise<void> {
  pgliteReady ??= (async () => {
    const path = await ensurePgliteTemplate();
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      // Removed meanwhile (a cleaned temporary folder): build it again.
      rmSync(path, { force: true });
      bytes = readFileSync(await ensurePgliteTemplate());
    }
    useMemoryTemplate(new Blob([new Uint8Array(bytes)]));
  })();
  return pgliteReady;
}

let geoReady: Promise<unknown> | null = null;

/**
 * Load the geo database once per process, with its AS number table cached for the whole run: a
 * fresh data folder would otherwise parse the 32 MB of CSV again (half a second of CPU) in every
 * test process. The app's own load of the same files then finds it loaded (GeoService shares one
 * load per set of files per process).
 */
export function useSharedGeoCache(config: AsloConfig): Promise<unknown> {
  geoReady ??= new GeoService({ ...geoPaths(config), cacheDir: join(tmpdir(), 'aslo-test-templates', 'geo') }).load();
  return geoReady;
}

export function pgTemplateName(): string {
  return `aslo_template_${migrationsHash()}`;
}

// Any fixed number: the advisory lock that serialises building the template.
const TEMPLATE_LOCK = 0x61736c6f;

const pgReady = new Map<string, Promise<string>>();

/** Create (once, under an advisory lock) the migrated template database; returns its name. */
export function ensurePgTemplate(serverUrl: string): Promise<string> {
  let p = pgReady.get(serverUrl);
  if (!p) {
    p = buildPgTemplate(serverUrl);
    pgReady.set(serverUrl, p);
    p.catch(() => pgReady.delete(serverUrl));
  }
  return p;
}

async function buildPgTemplate(serverUrl: string): Promise<string> {
  const name = pgTemplateName();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      // Migrated under another name and renamed when complete: a half-built template is never used.
      const building = `${name}_build`;
      await admin.query(`drop database if exists ${building} with (force)`);
      await admin.query(`create database ${building}`);
      const u = new URL(serverUrl);
      u.pathname = `/${building}`;
      const database = await openDatabase({ url: u.toString(), poolSize: 1 });
      try {
        await migrateToLatest(database.db);
      } finally {
        await database.close();
      }
      // A closed connection's server process may take a moment to leave; the rename needs it gone.
      for (let attempt = 1; ; attempt++) {
        try {
          await admin.query(`alter database ${building} rename to ${name}`);
          break;
        } catch (err) {
          if (attempt >= 50 || (err as { code?: string }).code !== '55006') throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]).catch(() => {});
    await admin.end();
  }
}

// Run directly (scripts/test.mjs does, before the test processes start): build the template of
// the selected database, and the run's geo cache (which createCliEnv copies into data folders).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if ((process.env.ASLO_TEST_DATABASE ?? 'pglite') === 'postgres') {
    await ensurePgTemplate(process.env.ASLO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  } else {
    await ensurePgliteTemplate();
  }
  await useSharedGeoCache(loadConfig({ env: {}, dataDir: join(tmpdir(), 'aslo-test-templates', 'config') }));
}
