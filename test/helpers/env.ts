// Test environments: a fresh instance (own data folder, own database) per call, on the database
// the run selects: ASLO_TEST_DATABASE=pglite (default, in-memory embedded PostgreSQL) or
// ASLO_TEST_DATABASE=postgres (a new database on the server at ASLO_TEST_PG_URL, dropped after).
// Either way the database is a copy of one migrated template per run (test/helpers/template.ts),
// already migrated: the migrations themselves run from empty in test/integration/db-migrations.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type AsloConfig } from '../../src/platform/config.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { build } from '../../src/app.js';
import { ensurePgTemplate, useSharedGeoCache, usePgliteTemplate } from './template.js';

export const TEST_DATABASE = (process.env.ASLO_TEST_DATABASE ?? 'pglite') as 'pglite' | 'postgres';
export const TEST_PG_URL = process.env.ASLO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Test options for tests of the embedded database alone (they open it themselves, whatever the
 * run's database): the PGlite run covers them, a PostgreSQL run would repeat them unchanged.
 */
export const EMBEDDED_ONLY: { skip: string | false } = { skip: TEST_DATABASE === 'postgres' ? 'the embedded database alone: the PGlite run covers it' : false };

export interface TestEnv {
  config: AsloConfig;
  dataDir: string;
  /** The PostgreSQL URL of this env's database, when running on PostgreSQL. */
  databaseUrl: string | null;
  cleanup(): Promise<void>;
}

/**
 * Create a PostgreSQL database on the test server, empty or (template) a copy of another
 * database; returns its URL and a dropper.
 */
export async function createPgDatabase(prefix = 'aslo_t', template?: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(template ? `create database ${name} template ${template}` : `create database ${name}`);
  await admin.end();
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function createTestEnv(opts: { instance?: string; env?: Record<string, string>; database?: 'pglite' | 'postgres' } = {}): Promise<TestEnv> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aslo-test-'));
  const which = opts.database ?? TEST_DATABASE;
  let pgdb: { url: string; drop(): Promise<void> } | null = null;
  const env: Record<string, string> = { ...opts.env };
  if (which === 'postgres') {
    pgdb = await createPgDatabase('aslo_t', await ensurePgTemplate(TEST_PG_URL));
    env.ASLO_DATABASE_URL = pgdb.url;
  } else {
    // Every ':memory:' database of this process starts from the migrated template.
    await usePgliteTemplate();
    env.ASLO_DATABASE_EMBEDDED_DIR = ':memory:';
  }
  const config = loadConfig({
    dataDir,
    instance: opts.instance ?? 'test',
    env: { ...env, ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_SERVER_BASE_URL: env.ASLO_SERVER_BASE_URL ?? 'http://store.test' },
    writeDefaults: true,
  });
  await useSharedGeoCache(config);
  return {
    config,
    dataDir,
    databaseUrl: pgdb?.url ?? null,
    async cleanup() {
      if (pgdb) await pgdb.drop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

export interface TestApp extends TestEnv {
  app: FastifyInstance;
  ctx: AppContext;
}

/** A real app on a fresh database (a copy of the migrated template). Call cleanup() in after(). */
export async function createTestApp(opts: Parameters<typeof createTestEnv>[0] = {}): Promise<TestApp> {
  const env = await createTestEnv(opts);
  const ctx = await createContext(env.config, { migrate: true, generateSecrets: true });
  const app = await build(env.config, { context: ctx });
  await app.ready();
  return {
    ...env,
    app,
    ctx,
    async cleanup() {
      await app.close();
      await ctx.close();
      await env.cleanup();
    },
  };
}
