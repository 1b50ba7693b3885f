// The error registry (src/platform/error-codes.ts) is the one list of error codes: this test scans
// the source so that no code is used without being listed, no listed code is left unused, every
// code's status is the one its errors are answered with (or a listed exception), and
// docs/errors.md is exactly what `npm run docs:errors` writes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_GROUPS, ERRORS, REPORTED_CODES, isErrorCode, statusOf } from '../../src/platform/error-codes.js';
import { AsloError, answerError, classifyError, errorBody, notFound, type ErrorAnswer } from '../../src/platform/errors.js';
import { ERROR_CODES as BUNDLE_ERROR_CODES, WARNING_CODES as BUNDLE_WARNING_CODES } from '../../src/bundles/errors.js';
import { ERRORS_DOC, renderErrorDocs } from '../../scripts/error-docs.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const REGISTRY = join(SRC, 'platform', 'error-codes.ts');
/** The development tools (aslo dev) throw registered codes too. */
const TOOLS = fileURLToPath(new URL('../../tools/', import.meta.url));

/** Code-shaped strings of the source that are not error codes: names of other things. */
const NOT_ERROR_CODES = new Set([
  'EAI_AGAIN', // a DNS failure code of Node, read from errors
  'FETCH_HEAD', // a git ref
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY', // environment variables passed to git
  'ASLO_PORT', // an environment variable the config reads
]);
/** Fastify's own codes, read from the errors it raises (src/platform/errors.ts classifyError, src/app.ts). */
const FRAMEWORK_CODE = /^FST_/;

/**
 * Calls that give an error another status than its code's, on purpose: file (under src/), code
 * and status. A call that passes the code's own status needs no entry.
 */
const STATUS_EXCEPTIONS = [
  // Not a form at all (nor a bundle body): the media type is what is wrong.
  ['review/api.ts', 'UPLOAD_NO_FILE', 415],
  ['web/hub/developers.ts', 'UPLOAD_NO_FILE', 415],
];

function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = [...sourceFiles(), ...sourceFiles(TOOLS)].map((path) => ({ path, rel: relative(SRC, path), text: readFileSync(path, 'utf8') }));
const codeFiles = files.filter((f) => f.path !== REGISTRY);

/** Every quoted string of the source shaped like a code (upper case words joined by underscores). */
function codeLiterals(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const f of codeFiles) {
    for (const m of f.text.matchAll(/(['"`])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\1/g)) {
      const list = found.get(m[2]!) ?? [];
      list.push(f.rel);
      found.set(m[2]!, list);
    }
  }
  return found;
}

/** The end of a call's arguments (just past its closing parenthesis), skipping strings and template literals. */
function callEnd(text: string, from: number): number {
  let depth = 1;
  let i = from;
  while (i < text.length && depth > 0) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '`') {
      let nested = 0;
      for (i++; i < text.length; i++) {
        if (text[i] === '\\') i++;
        else if (text[i] === '`' && nested === 0) break;
        else if (text[i] === '$' && text[i + 1] === '{') nested++, i++;
        else if (text[i] === '}' && nested > 0) nested--;
      }
    } else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    i++;
  }
  return i;
}

interface Construction {
  file: string;
  line: number;
  code: string;
  /** The status the call gives, or null when it leaves it to the code. */
  status: number | null;
}

/** Every `new AsloError('CODE', ...)`, `notFound('CODE', ...)` and `new BuildError('CODE', ...)` with a literal code. */
function constructions(): Construction[] {
  const out: Construction[] = [];
  for (const f of codeFiles) {
    for (const m of f.text.matchAll(/\b(new AsloError|notFound|new BuildError)\(\s*'([A-Z0-9_]+)'/g)) {
      const open = m.index + m[0].indexOf('(') + 1;
      const args = f.text.slice(open, callEnd(f.text, open));
      const explicit = /statusCode:\s*(\d+)/.exec(args)?.[1];
      const status = m[1] === 'notFound' ? 404 : m[1] === 'new BuildError' ? 422 : explicit ? Number(explicit) : null;
      out.push({ file: f.rel, line: f.text.slice(0, m.index).split('\n').length, code: m[2]!, status });
    }
  }
  return out;
}

const reported = new Set(Object.keys(REPORTED_CODES));
const bundleCodes = new Set<string>([...BUNDLE_ERROR_CODES, ...BUNDLE_WARNING_CODES]);

describe('error registry', () => {
  it('lists every code of the source', () => {
    const unknown: string[] = [];
    for (const [code, where] of codeLiterals()) {
      if (isErrorCode(code) || reported.has(code) || bundleCodes.has(code) || NOT_ERROR_CODES.has(code) || FRAMEWORK_CODE.test(code)) continue;
      unknown.push(`${code} (${[...new Set(where)].join(', ')})`);
    }
    assert.deepEqual(unknown, [], 'codes used in src/ but not listed in src/platform/error-codes.ts (add them, then run npm run docs:errors)');
  });

  it('lists no code that the source does not use', () => {
    const used = codeLiterals();
    // INTERNAL has no underscore: the literal scan does not see it; it is the classifier's.
    const unused = [...Object.keys(ERRORS), ...reported].filter((code) => !used.has(code) && !codeFiles.some((f) => f.text.includes(`'${code}'`)));
    assert.deepEqual(unused, [], 'codes listed in src/platform/error-codes.ts that nothing in src/ uses');
  });

  it('lists each code once, in one family', () => {
    const inGroups = ERROR_GROUPS.flatMap((g) => Object.keys(g.codes));
    assert.equal(new Set(inGroups).size, inGroups.length, 'a code is in two groups');
    assert.equal(inGroups.length, Object.keys(ERRORS).length);
    for (const code of inGroups) {
      assert.ok(!reported.has(code), `${code} is both raised and reported`);
      assert.ok(!bundleCodes.has(code), `${code} is both an error and a bundle code`);
    }
    for (const code of reported) assert.ok(!bundleCodes.has(code), `${code} is both reported and a bundle code`);
  });

  it('gives every code an error status and a one-line meaning', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
      assert.ok(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599, `${code}: status ${spec.status}`);
      assert.ok(spec.meaning.length > 10 && !spec.meaning.includes('\n') && /[.)]$/.test(spec.meaning), `${code}: meaning "${spec.meaning}"`);
    }
    for (const [code, meaning] of Object.entries(REPORTED_CODES)) assert.ok(meaning.length > 10 && !meaning.includes('\n'), `${code}: meaning`);
  });

  it("answers each error with its code's status, but for the listed exceptions", () => {
    const all = constructions();
    assert.ok(all.length > 200, `found only ${all.length} error constructions: the scan is broken`);
    const exceptions = all
      .filter((c) => c.status !== null && c.status !== statusOf(c.code))
      .map((c) => [c.file, c.code, c.status] as const)
      .filter(([file, code, status]) => !STATUS_EXCEPTIONS.some(([f, c, s]) => f === file && c === code && s === status));
    assert.deepEqual(exceptions, [], "calls that give another status than their code's: use the code's status, or list the call in STATUS_EXCEPTIONS");
    for (const [file, code, status] of STATUS_EXCEPTIONS) {
      assert.ok(
        all.some((c) => c.file === file && c.code === code && c.status === status),
        `STATUS_EXCEPTIONS lists ${code} ${status} in ${file}, which is gone`,
      );
    }
  });

  it('documents every code in docs/errors.md, as the generator writes it', () => {
    const doc = readFileSync(ERRORS_DOC, 'utf8');
    assert.equal(doc, renderErrorDocs(), 'docs/errors.md is out of date: run npm run docs:errors');
    for (const code of [...Object.keys(ERRORS), ...reported, ...bundleCodes])
      assert.ok(doc.includes(`| \`${code}\` |`), `${code} is missing from docs/errors.md`);
    for (const [code, spec] of Object.entries(ERRORS)) assert.ok(doc.includes(`| \`${code}\` | ${spec.status} |`), `${code}: status`);
  });
});

describe('AsloError and answerError', () => {
  it("takes the code's status unless the call gives another", () => {
    assert.equal(new AsloError('DB_READ_ONLY', 'away').statusCode, 503);
    assert.equal(new AsloError('REVIEW_STALE', 'stale').statusCode, 409);
    assert.equal(new AsloError('EMAIL_INVALID', 'no').statusCode, 400);
    assert.equal(new AsloError('UPLOAD_NO_FILE', 'not a form', { statusCode: 415 }).statusCode, 415);
    assert.equal(notFound('ACTIVITY_NOT_FOUND', 'none').statusCode, 404);
  });

  function fakeReply() {
    const sent: { status?: number; body?: unknown } = {};
    const reply = {
      status(s: number) {
        sent.status = s;
        return reply;
      },
      send(b: unknown) {
        sent.body = b;
        return reply;
      },
    };
    return { reply, sent };
  }
  function fakeRequest() {
    const logged: string[] = [];
    const req = { raw: { complete: true, headers: {} }, log: { error: () => logged.push('error'), info: () => logged.push('info') } };
    return { req, logged };
  }

  it('sends the JSON error body with the status, and logs only our own failures', () => {
    const { reply, sent } = fakeReply();
    const { req, logged } = fakeRequest();
    answerError(new AsloError('REVIEW_STALE', 'stale', { details: { versions: [] } }), req as never, reply as never);
    assert.deepEqual(sent, { status: 409, body: { error: { code: 'REVIEW_STALE', message: 'stale', details: { versions: [] } } } });
    assert.deepEqual(logged, []);
    const other = fakeReply();
    answerError(new TypeError('boom'), req as never, other.reply as never);
    assert.equal(other.sent.status, 500);
    assert.deepEqual(other.sent.body, errorBody('INTERNAL', classifyError(new TypeError('boom')).message));
    assert.deepEqual(JSON.parse(JSON.stringify(other.sent.body)), { error: { code: 'INTERNAL', message: classifyError(new Error()).message } });
    assert.deepEqual(logged, ['error']);
  });

  it('hands the classified answer to a page renderer instead', () => {
    const { reply, sent } = fakeReply();
    const { req } = fakeRequest();
    let seen: ErrorAnswer | undefined;
    const out = answerError(notFound('TAG_NOT_FOUND', 'no tag'), req as never, reply as never, (a) => {
      seen = a;
      return 'page';
    });
    assert.equal(out, 'page');
    assert.deepEqual(seen, { status: 404, code: 'TAG_NOT_FOUND', message: 'no tag', details: undefined, log: null });
    assert.deepEqual(sent, {});
  });
});
