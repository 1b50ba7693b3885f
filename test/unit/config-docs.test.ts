// docs/configuration.md lists every configuration key with its environment variable. The table is
// generated from the schema (scripts/config-docs.ts): this test fails when the committed table is
// not the generator's output, walks the built-in defaults (and the documented default config.yaml)
// so the table cannot fall behind src/platform/config-schema.ts, and checks each documented
// variable really sets its key.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { DEFAULT_CONFIG_TEXT, loadConfig } from '../../src/platform/config.js';
import { configKeys as schemaKeys } from '../../src/platform/config-schema.js';
import { withConfigTable } from '../../scripts/config-docs.js';

const DOC = new URL('../../docs/configuration.md', import.meta.url);
// A data folder that does not exist: nothing is read or written, so only the defaults apply.
const NO_DATA = join(tmpdir(), `aslo-config-docs-${process.pid}-none`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function leaves(obj: Record<string, unknown>, path: string[] = [], out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    if (isObject(v)) leaves(v, [...path, k], out);
    else out.set([...path, k].join('.'), v);
  }
  return out;
}

/** Every leaf key of the configuration with its default (the four top-level fields are not keys). */
function configKeys(): Map<string, unknown> {
  const cfg = loadConfig({ dataDir: NO_DATA, env: {} }) as unknown as Record<string, unknown>;
  const sections = Object.fromEntries(Object.entries(cfg).filter(([, v]) => isObject(v)));
  const keys = leaves(sections);
  for (const key of leaves(YAML.parse(DEFAULT_CONFIG_TEXT) as Record<string, unknown>).keys()) {
    if (!keys.has(key)) keys.set(key, undefined);
  }
  return keys;
}

/** The variable name rule of config.ts: ASLO_ + each level, camelCase words split by underscores. */
function envName(key: string): string {
  return (
    'ASLO_' +
    key
      .split('.')
      .map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  );
}

/** Rows of the "Environment variables" table: key (without backticks) -> its variable cell. */
function documentedRows(): Map<string, string> {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf('## Environment variables');
  assert.ok(start >= 0, 'docs/configuration.md has an "Environment variables" section');
  const next = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const m = /^`([^`]+)`$/.exec(cells[1] ?? '');
    if (line.startsWith('|') && m) rows.set(m[1]!, cells[2] ?? '');
  }
  return rows;
}

function getPath(obj: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], obj);
}

/** A value for the variable that differs from the default, and what the key should then hold. */
function probe(def: unknown): { raw: string; want: unknown } {
  if (typeof def === 'number') return { raw: String(def + 1), want: def + 1 };
  if (typeof def === 'boolean') return { raw: String(!def), want: !def };
  if (Array.isArray(def)) return { raw: 'doc-a, doc-b', want: ['doc-a', 'doc-b'] };
  return { raw: 'doc-test-value', want: 'doc-test-value' };
}

describe('docs/configuration.md', () => {
  const keys = configKeys();
  const rows = documentedRows();

  it('holds the table generated from the schema (npm run docs:config writes it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    assert.equal(doc, withConfigTable(doc), 'docs/configuration.md is out of date: run npm run docs:config');
  });

  it('finds the configuration keys', () => {
    assert.ok(keys.size > 50, `only ${keys.size} keys found`);
    assert.ok(keys.has('server.port') && keys.has('updates.runtimeRanges.python2') && keys.has('storage.filesDir'));
  });

  it('lists every key in backticks with its variable name on the same row', () => {
    const missing: string[] = [];
    for (const key of keys.keys()) {
      const cell = rows.get(key);
      if (cell === undefined || !cell.includes('`' + envName(key) + '`')) missing.push(`${key} (${envName(key)})`);
    }
    assert.deepEqual(missing, [], `docs/configuration.md lacks rows for: ${missing.join(', ')}`);
  });

  it('lists no key that does not exist, and no secret', () => {
    const stale = [...rows.keys()].filter((k) => !keys.has(k));
    assert.deepEqual(stale, [], `docs/configuration.md lists unknown keys: ${stale.join(', ')}`);
    for (const [key, cell] of rows) assert.ok(!cell.includes('ASLO_SECRET_'), `${key}: secrets have their own section`);
  });

  it('mentions the ASLO_PORT alias of server.port', () => {
    assert.ok(rows.get('server.port')?.includes('`ASLO_PORT`'));
  });

  it('names variables that really set their keys', () => {
    const defaults = loadConfig({ dataDir: NO_DATA, env: {} });
    for (const key of keys.keys()) {
      const { raw, want } = probe(getPath(defaults, key));
      const cfg = loadConfig({ dataDir: NO_DATA, env: { [envName(key)]: raw } });
      assert.deepEqual(getPath(cfg, key), want, `${envName(key)}=${raw} should set ${key}`);
    }
    assert.equal(loadConfig({ dataDir: NO_DATA, env: { ASLO_PORT: '9191' } }).server.port, 9191);
  });
});

describe('default config.yaml', () => {
  it('reads back as the built-in defaults, for every key it lists', () => {
    const written = leaves(YAML.parse(DEFAULT_CONFIG_TEXT) as Record<string, unknown>);
    const defaults = new Map(schemaKeys().map((k) => [k.path.join('.'), k.schema.default]));
    for (const [key, value] of written) assert.deepEqual(value, defaults.get(key), key);
    const left = [...defaults.keys()].filter((k) => !written.has(k)).sort();
    assert.deepEqual(left, ['database.embeddedDir', 'storage.filesDir', 'storage.outboxDir', 'storage.repoDir']);
  });

  it('is accepted by the loader as written, and sets nothing but the defaults', () => {
    const data = join(tmpdir(), `aslo-config-docs-${process.pid}-written`);
    try {
      const written = loadConfig({ dataDir: data, env: {}, writeDefaults: true });
      assert.equal(readFileSync(written.configFile, 'utf8'), DEFAULT_CONFIG_TEXT);
      const empty = join(data, 'empty.yaml');
      writeFileSync(empty, '');
      const defaults = loadConfig({ dataDir: data, env: {}, configFile: empty });
      assert.deepEqual({ ...written, configFile: '' }, { ...defaults, configFile: '' });
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
