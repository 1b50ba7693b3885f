// docs/errors.md, generated from the error registry (src/platform/error-codes.ts) and the bundle
// inspector's code lists (src/bundles/errors.ts):
//   npm run docs:errors              rewrite docs/errors.md
//   npm run docs:errors -- --check   change nothing; exit 1 when docs/errors.md is out of date
// (test/unit/error-registry.test.ts runs the check too).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_GROUPS, REPORTED_CODES } from '../src/platform/error-codes.js';
import { ERROR_CODES as BUNDLE_ERROR_CODES, WARNING_CODES as BUNDLE_WARNING_CODES } from '../src/bundles/errors.js';

export const ERRORS_DOC = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

/** A table cell: one line, no column separator. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

export function renderErrorDocs(): string {
  const out: string[] = [
    '# Error codes',
    '',
    '<!-- Generated from src/platform/error-codes.ts by `npm run docs:errors`: edit the registry, not this file. -->',
    '',
    'Every error the store answers, throws or reports carries a stable code: search for it here.',
    'Codes never change meaning and are never renamed. The API and the updater answer',
    '`{"error": {"code": "...", "message": "..."}}` (some add `details`) with the status below; the',
    "store's and the hub's pages show the same code and status on an HTML page; the command line",
    'prints `aslo: <message> [CODE]` and exits with status 1. The message says what to do in the',
    'case at hand; the meaning below says what the code stands for.',
    '',
    "A few answers keep another status than their code's where the difference tells the client",
    'something (an upload that is not a form at all: `UPLOAD_NO_FILE` with 415); each such call',
    'is listed in test/unit/error-registry.test.ts.',
  ];
  for (const group of ERROR_GROUPS) {
    out.push('', `## ${group.title}`, '');
    if (group.note) out.push(group.note, '');
    out.push('| Code | Status | Meaning |', '| --- | --- | --- |');
    for (const [code, spec] of Object.entries(group.codes)) out.push(`| \`${code}\` | ${spec.status} | ${cell(spec.meaning)} |`);
  }
  out.push(
    '',
    '## Codes of the framework',
    '',
    'A request the framework or one of its plugins refuses with a 4xx status of its own, and that no',
    "code above covers, is answered with that status and the framework's code (`FST_...`, as in",
    "Fastify's documentation), or `BAD_REQUEST` when it has none. `aslo publish` reports an answer",
    'of the store that carries no result as `HTTP_<status>`.',
    '',
    '## Reported codes',
    '',
    'Codes that are not raised but reported, in an upload report (`errors`, `warnings`), a build log',
    'or an import row, next to the bundle codes below.',
    '',
    '| Code | Meaning |',
    '| --- | --- |',
  );
  for (const [code, meaning] of Object.entries(REPORTED_CODES)) out.push(`| \`${code}\` | ${cell(meaning)} |`);
  out.push(
    '',
    '## Bundle codes',
    '',
    'The findings of the bundle inspector (src/bundles/errors.ts): an error refuses the bundle (an',
    'upload is answered 422), a warning is shown and the bundle is taken. Each code, with what it',
    'means and what to change, is described in src/bundles/README.md.',
    '',
    '| Code | Severity |',
    '| --- | --- |',
  );
  for (const code of BUNDLE_ERROR_CODES) out.push(`| \`${code}\` | error |`);
  for (const code of BUNDLE_WARNING_CODES) out.push(`| \`${code}\` | warning |`);
  return out.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderErrorDocs();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(ERRORS_DOC, 'utf8');
    } catch {
      current = '';
    }
    if (current !== text) {
      console.error('docs/errors.md is out of date: run npm run docs:errors');
      process.exit(1);
    }
  } else {
    writeFileSync(ERRORS_DOC, text);
    console.log('wrote docs/errors.md');
  }
}
