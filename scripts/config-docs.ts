// Writes the key table of docs/configuration.md from the configuration schema
// (src/platform/config-schema.ts), between its two marker lines. A unit test fails when the
// committed table differs from what this prints, so a new key is documented by running it.
// Usage: node --import tsx scripts/config-docs.ts [--check]   (npm run docs:config)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configKeys, envName, type ConfigKey } from '../src/platform/config-schema.js';

export const CONFIG_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
const START = '<!-- config keys: generated from src/platform/config-schema.ts by `npm run docs:config` -->';
const END = '<!-- end of config keys -->';

function variableCell({ path, schema }: ConfigKey): string {
  let cell = '`' + envName(path) + '`';
  if (typeof schema.envAlias === 'string') cell += ` (or \`${schema.envAlias}\`)`;
  if (schema.type === 'array') cell += ' (comma-separated)';
  return cell;
}

function defaultCell({ schema }: ConfigKey): string {
  const value = schema.default;
  const note = typeof schema.defaultNote === 'string' ? schema.defaultNote : undefined;
  const empty = value === '' || (Array.isArray(value) && value.length === 0);
  if (empty) return note ? `empty: ${note}` : 'empty';
  const shown = '`' + (Array.isArray(value) ? value.join(', ') : String(value)) + '`';
  return note ? `${shown} (${note})` : shown;
}

/** The table: one row per key, in the schema's order. */
export function renderConfigTable(): string {
  const rows = configKeys().map(
    (key) => `| \`${key.path.join('.')}\` | ${variableCell(key)} | ${defaultCell(key)} | ${String(key.schema.description ?? '')} |`,
  );
  return ['| key | variable | default | what it does |', '|---|---|---|---|', ...rows].join('\n');
}

/** The document with the text between the markers replaced by the table. */
export function withConfigTable(doc: string): string {
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${CONFIG_DOC} lacks the config table markers`);
  return `${doc.slice(0, start + START.length)}\n${renderConfigTable()}\n${doc.slice(end)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const doc = readFileSync(CONFIG_DOC, 'utf8');
  const next = withConfigTable(doc);
  if (process.argv.includes('--check')) {
    if (next !== doc) {
      console.error('docs/configuration.md is out of date: run npm run docs:config');
      process.exitCode = 1;
    }
  } else if (next !== doc) {
    writeFileSync(CONFIG_DOC, next);
    console.log('docs/configuration.md: config table updated');
  }
}
