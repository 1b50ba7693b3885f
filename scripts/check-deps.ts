// The layer rules of src/ (docs/architecture.md, "Layers"), checked over the import statements
// and the query-builder calls of every module:
//   npx tsx scripts/check-deps.ts        (npm run check:deps; .ci/run runs it after the type check)
// Exit 1 with one line per violation, 0 when the tree keeps the rules:
//   - no cycle between the folders under src/ (one folder per domain, plus platform, bundles,
//     web and cli): a folder may import another only if that one does not import it back,
//     directly or through others;
//   - platform imports nothing of src/ outside platform;
//   - bundles (the pure library) imports only bundles and platform's pure helpers (PURE_HELPERS);
//   - SQL (Kysely's selectFrom, insertInto, updateTable, deleteFrom, mergeInto and sql`...`) only
//     in query modules: files named queries.ts or in a queries/ folder, and platform/db (the
//     database layer and its migrations). The files that still hold SQL elsewhere are listed in
//     scripts/sql-allowlist.txt; the list only shrinks: a listed file that no longer holds SQL
//     (or is gone) is an error until its line is removed, like a new file with SQL.
// Imports are read with a regular expression over the source, not by a compiler: every import in
// this codebase is an `import`/`export ... from '...'` statement at the start of a line or an
// `import('...')` call, and only relative specifiers (inside src/) matter here.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The modules of platform that bundles may use: no I/O, no state. */
export const PURE_HELPERS = ['platform/text.ts', 'platform/slug.ts'];

export interface Violation {
  rule: 'folder-cycle' | 'platform-imports-domain' | 'bundles-not-pure' | 'sql-outside-queries' | 'sql-allowlist-stale';
  file: string;
  message: string;
}

export interface Module {
  /** Path relative to src/, with forward slashes. */
  path: string;
  source: string;
}

/** Every .ts/.mts/.mjs module under `srcDir`. */
export function readModules(srcDir: string): Module[] {
  const out: Module[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts'))
        out.push({ path: relative(srcDir, p).split(sep).join('/'), source: readFileSync(p, 'utf8') });
    }
  };
  walk(srcDir);
  return out;
}

const STATIC_IMPORT = /^[ \t]*(?:import\s*|(?:import|export)\b[^'";=()]*?\bfrom\s*)['"]([^'"\n]+)['"]/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

/** The modules (paths relative to src/) a module imports; packages and paths outside src/ are left out. */
export function importsOf(mod: Module): string[] {
  const found = new Set<string>();
  for (const re of [STATIC_IMPORT, DYNAMIC_IMPORT]) {
    for (const m of mod.source.matchAll(re)) {
      const spec = m[1]!;
      if (!spec.startsWith('.')) continue;
      const absolute = resolve('/src', dirname(mod.path), spec);
      if (!absolute.startsWith('/src/')) continue;
      found.add(
        absolute
          .slice('/src/'.length)
          .replace(/\.js$/, '.ts')
          .replace(/\.mjs$/, '.mts'),
      );
    }
  }
  return [...found];
}

/** The folder of src/ a module belongs to; null for the files at the top (app.ts, server.ts: they compose everything). */
export function folderOf(path: string): string | null {
  const i = path.indexOf('/');
  return i < 0 ? null : path.slice(0, i);
}

const SQL_CALL = /\.(?:selectFrom|insertInto|updateTable|deleteFrom|mergeInto)\(|\bsql(?:<[^>`]*>)?`/;

export function holdsSql(source: string): boolean {
  return SQL_CALL.test(source);
}

export function isQueryModule(path: string): boolean {
  return /(^|\/)queries\.ts$/.test(path) || /(^|\/)queries\//.test(path) || path.startsWith('platform/db/');
}

/** Strongly connected components of a directed graph (Tarjan), only those with more than one node. */
function cycles(nodes: string[], edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

export function check(modules: Module[], sqlAllowlist: string[]): Violation[] {
  const violations: Violation[] = [];
  const folderEdges = new Map<string, Set<string>>();
  /** One example import per folder pair, to name in the message. */
  const example = new Map<string, string>();
  for (const mod of modules) {
    const from = folderOf(mod.path);
    for (const target of importsOf(mod)) {
      const to = folderOf(target);
      if (from === 'platform' && to !== 'platform') {
        violations.push({
          rule: 'platform-imports-domain',
          file: mod.path,
          message: `platform must not import ${target} (platform is the bottom layer; move the shared piece down or emit an event)`,
        });
      }
      if (from === 'bundles' && to !== 'bundles' && !PURE_HELPERS.includes(target)) {
        violations.push({ rule: 'bundles-not-pure', file: mod.path, message: `bundles may import only bundles and ${PURE_HELPERS.join(', ')}, not ${target}` });
      }
      if (from && to && from !== to) {
        if (!folderEdges.has(from)) folderEdges.set(from, new Set());
        folderEdges.get(from)!.add(to);
        const key = `${from}>${to}`;
        if (!example.has(key)) example.set(key, `${mod.path} imports ${target}`);
      }
    }
  }
  const folders = [...new Set(modules.map((m) => folderOf(m.path)).filter((f): f is string => f !== null))].sort();
  for (const scc of cycles(folders, folderEdges)) {
    const inCycle = new Set(scc);
    const links = scc.flatMap((a) =>
      [...(folderEdges.get(a) ?? [])]
        .filter((b) => inCycle.has(b))
        .sort()
        .map((b) => example.get(`${a}>${b}`)!),
    );
    violations.push({ rule: 'folder-cycle', file: scc.join(', '), message: `these folders import each other: ${links.join('; ')}` });
  }
  const allowed = new Set(sqlAllowlist);
  const present = new Set(modules.map((m) => m.path));
  for (const mod of modules) {
    if (isQueryModule(mod.path) || !holdsSql(mod.source)) continue;
    if (!allowed.has(mod.path))
      violations.push({ rule: 'sql-outside-queries', file: mod.path, message: 'SQL belongs in a query module (queries.ts or queries/*.ts of its domain)' });
  }
  for (const path of sqlAllowlist) {
    if (!present.has(path))
      violations.push({ rule: 'sql-allowlist-stale', file: path, message: 'listed in scripts/sql-allowlist.txt but no longer exists: remove the line' });
    else if (isQueryModule(path) || !holdsSql(modules.find((m) => m.path === path)!.source)) {
      violations.push({
        rule: 'sql-allowlist-stale',
        file: path,
        message: 'listed in scripts/sql-allowlist.txt but holds no SQL outside a query module any more: remove the line',
      });
    }
  }
  return violations;
}

/** The allowlist file: one path relative to src/ per line; # starts a comment. */
export function readAllowlist(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const modules = readModules(join(root, 'src'));
  const violations = check(modules, readAllowlist(join(root, 'scripts', 'sql-allowlist.txt')));
  for (const v of violations) console.error(`${v.rule}: ${v.file}: ${v.message}`);
  if (violations.length > 0) {
    console.error(`\n${violations.length} violation(s) of the layer rules (docs/architecture.md, "Layers")`);
    process.exit(1);
  }
  console.log(`layer rules kept: ${modules.length} modules`);
}
