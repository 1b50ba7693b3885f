// The layer rules checker (scripts/check-deps.ts) finds each kind of violation in a constructed
// tree, so a checker that silently passes everything cannot go unnoticed; and the real tree keeps
// the rules.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, importsOf, readAllowlist, readModules, type Module } from '../../scripts/check-deps.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A small tree that keeps every rule; each test adds one violation to it. */
function base(): Module[] {
  return [
    { path: 'platform/errors.ts', source: 'export class AsloError extends Error {}\n' },
    { path: 'platform/text.ts', source: 'export const x = 1;\n' },
    { path: 'platform/db/index.ts', source: "export const q = (db) => db.selectFrom('t');\n" },
    { path: 'bundles/index.ts', source: "import { x } from '../platform/text.js';\nexport const version = '1';\n" },
    { path: 'catalog/service.ts', source: "import { AsloError } from '../platform/errors.js';\nimport { list } from './queries.js';\n" },
    { path: 'catalog/queries.ts', source: "export const list = (db) => db.selectFrom('activities').selectAll().execute();\n" },
    { path: 'updates/service.ts', source: "import {\n  a,\n  b,\n} from '../catalog/service.js';\nimport type { T } from '../bundles/index.js';\n" },
    { path: 'app.ts', source: "import { a } from './updates/service.js';\nimport { b } from './catalog/service.js';\n" },
  ];
}

const rules = (modules: Module[], allow: string[] = []) => check(modules, allow).map((v) => `${v.rule} ${v.file}`);

describe('layer rules checker', () => {
  it('passes a tree that keeps the rules', () => {
    assert.deepEqual(rules(base()), []);
  });

  it('reads multi-line, type-only, re-export, side-effect and dynamic imports, and no string that only looks like one', () => {
    const mod: Module = {
      path: 'web/page.ts',
      source: [
        "import {\n  one,\n  two,\n} from '../catalog/service.js';",
        "import type { T } from '../bundles/index.js';",
        "export { x } from '../platform/text.js';",
        "import './side.js';",
        "const m = await import('../updates/service.js');",
        "export const label = 'from \\'../mirrors/x.js\\'';",
        "// import { no } from '../accounts/access.js';",
        "import fastify from 'fastify';",
      ].join('\n'),
    };
    assert.deepEqual(importsOf(mod).sort(), ['bundles/index.ts', 'catalog/service.ts', 'platform/text.ts', 'updates/service.ts', 'web/side.ts']);
  });

  it('fails on a cycle between two folders, and on one through three', () => {
    const two = [...base(), { path: 'catalog/feed.ts', source: "import { a } from '../updates/service.js';\n" }];
    assert.deepEqual(rules(two), ['folder-cycle catalog, updates']);
    const three = [
      ...base(),
      { path: 'updates/x.ts', source: "import { m } from '../mirrors/m.js';\n" },
      { path: 'mirrors/m.ts', source: "export { s } from '../catalog/service.js';\n" },
      { path: 'catalog/y.ts', source: "import('../updates/x.js');\n" },
    ];
    assert.deepEqual(rules(three), ['folder-cycle catalog, mirrors, updates']);
  });

  it('fails when platform imports a domain', () => {
    const m = [...base(), { path: 'platform/metrics/plugin.ts', source: "import type { S } from '../../downloads/fast-path.js';\n" }];
    assert.deepEqual(rules(m), ['platform-imports-domain platform/metrics/plugin.ts']);
  });

  it('fails when bundles imports anything but bundles and the pure helpers of platform', () => {
    const m = [...base(), { path: 'bundles/zip.ts', source: "import { AsloError } from '../platform/errors.js';\n" }];
    assert.deepEqual(rules(m), ['bundles-not-pure bundles/zip.ts']);
  });

  it('fails on SQL outside a query module, unless the file is listed', () => {
    for (const source of [
      "await db.insertInto('t').values(v).execute();",
      "await trx\n  .updateTable('t')",
      "db.deleteFrom('t')",
      'await sql`select 1`.execute(db);',
      'sql<number>`select 1`',
    ]) {
      const m = [...base(), { path: 'ratings/service.ts', source }];
      assert.deepEqual(rules(m), ['sql-outside-queries ratings/service.ts'], source);
      assert.deepEqual(rules(m, ['ratings/service.ts']), [], source);
    }
    const allowed = [...base(), { path: 'ratings/queries/flags.ts', source: "db.selectFrom('flags')" }];
    assert.deepEqual(rules(allowed), []);
  });

  it('fails on a listed file that no longer needs to be listed, or is gone', () => {
    assert.deepEqual(rules(base(), ['catalog/service.ts', 'catalog/queries.ts', 'gone.ts']), [
      'sql-allowlist-stale catalog/service.ts',
      'sql-allowlist-stale catalog/queries.ts',
      'sql-allowlist-stale gone.ts',
    ]);
  });

  it('finds no violation in src/', () => {
    const violations = check(readModules(join(ROOT, 'src')), readAllowlist(join(ROOT, 'scripts', 'sql-allowlist.txt')));
    assert.deepEqual(violations, []);
  });
});
