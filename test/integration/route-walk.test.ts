// No request makes a 500. The walk takes every route the app registered (its route table, every
// method: a route added tomorrow is walked without editing this file) and sends hostile values in
// each path parameter, query key and body field, as an anonymous visitor, a user and an
// administrator (with valid sessions, CSRF tokens and API tokens, so the values reach the
// handlers), then checks that nothing answered 5xx, that nothing was logged at error level and
// that the store still serves.
//
// Keys per route: those its schema declares, those its handler's own code reads, and every key
// any handler of the app reads (found by reading src/: field(body, 'x'), q.x, query.x, ...).
// Hostile values: NUL, 100 KB strings, invalid UTF-8, huge, negative and fractional numbers,
// wrong JSON types, empty; plus malformed multipart and broken JSON bodies. Each route gets every
// value with all keys at once, and each of its own keys alone with a rotating sample.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { FastifyInstance, InjectOptions } from 'fastify';
import sharp from 'sharp';
import { build, type RegisteredRoute } from '../../src/app.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { MULTIPART_ALLOWANCE_BYTES } from '../../src/platform/request-guard.js';
import { MirrorRegistry } from '../../src/mirrors/registry.js';
import type { TokenScope } from '../../src/platform/db/schema.js';
import { actorFromUser } from '../../src/accounts/service.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload } from '../helpers/people.js';
import { Browser, PASSWORD, uniqueEmail } from '../helpers/browser.js';

const SRC = new URL('../../src/', import.meta.url).pathname;

// ---- the keys handlers read ----------------------------------------------------------------

const KEY_PATTERNS = [
  /\b(?:field|fieldList|bodyField|str|one)\(\s*(?:[\w.]+\s*,\s*)?'([A-Za-z_][\w-]*)'/g,
  /\b(?:q|query|qs|body|b|f|fields|raw|input|form)\.([a-z_][a-z0-9_]*)\b(?!\s*\()/g,
  /\b(?:q|query|body|b|f|raw)\[\s*'([A-Za-z_][\w-]*)'\s*\]/g,
  /searchParams\.get\(\s*'([^']+)'\s*\)/g,
];
/** Property names the patterns meet that are no request keys. */
const NOT_KEYS = new Set(['length', 'value', 'file', 'fields', 'filename', 'mimetype', 'type', 'kind']);

function keysIn(source: string): Set<string> {
  const out = new Set<string>();
  for (const re of KEY_PATTERNS) for (const m of source.matchAll(re)) if (!NOT_KEYS.has(m[1]!)) out.add(m[1]!);
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every key some handler of the app reads (scanned from the code, so new handlers add theirs). */
function appKeys(): string[] {
  const all = new Set<string>(['q', 'page', 'per_page', 'sort', 'id', 'locale', 'next']);
  for (const f of sourceFiles(SRC)) {
    if (f.includes('/cli/') || f.includes('/bundles/') || f.includes('/db/migrations/')) continue;
    for (const k of keysIn(readFileSync(f, 'utf8'))) all.add(k);
  }
  all.delete('_csrf');
  return [...all].sort();
}

function schemaKeys(part: unknown): string[] {
  const props = (part as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}

// ---- hostile values -------------------------------------------------------------------------

interface Kind {
  name: string;
  /** As written in a URL (path segment or query value), percent-encoded where needed. */
  url: string;
  /** As a JSON value. */
  json: unknown;
}

const LONG = 100_000;
const KINDS: Kind[] = [
  { name: 'nul', url: '%00', json: '\u0000' },
  { name: 'nul-inside', url: 'org.x%00y', json: 'org.x\u0000y' },
  { name: 'long', url: 'x'.repeat(LONG), json: 'x'.repeat(LONG) },
  { name: 'invalid-utf8', url: '%ff%fe', json: '\ud800' },
  { name: 'overlong-utf8', url: '%C0%AF', json: '\udfff' },
  { name: 'huge', url: '99999999999999999999', json: 1e20 },
  { name: 'huge-negative', url: '-99999999999999999999', json: -1e20 },
  { name: 'int-overflow', url: '2147483648', json: 2147483648 },
  { name: 'negative', url: '-1', json: -1 },
  { name: 'zero', url: '0', json: 0 },
  { name: 'fraction', url: '1.5', json: 1.5 },
  { name: 'exponent', url: '1e308', json: 1e308 },
  { name: 'nan', url: 'NaN', json: 'NaN' },
  { name: 'empty', url: '', json: '' },
  { name: 'space', url: '%20', json: ' ' },
  { name: 'traversal', url: '..%2F..%2Fetc%2Fpasswd', json: '../../etc/passwd' },
  { name: 'markup', url: '%3Cscript%3E%27%22%26', json: '<script>\'"&' },
  { name: 'bidi-emoji', url: '%E2%80%AE%F0%9F%98%80', json: '\u202e😀' },
  { name: 'huge-string', url: '99999999999999999999', json: '99999999999999999999' },
  { name: 'true', url: 'true', json: true },
  { name: 'null', url: 'null', json: null },
  { name: 'array', url: '', json: ['1', 'x'] },
  { name: 'object', url: '', json: { a: '1', b: { c: 2 } } },
];
/** Kinds that only mean something in JSON (their URL form is covered by another kind). */
const JSON_ONLY = new Set(['true', 'null', 'array', 'object', 'huge-string']);
const URL_KINDS = KINDS.filter((k) => !JSON_ONLY.has(k.name));
/** In path parameters: the URL kinds plus what only a path can hold. */
const PATH_KINDS: Kind[] = [
  ...URL_KINDS.filter((k) => k.name !== 'empty'),
  { name: 'long-allowed', url: 'y'.repeat(450), json: null },
  { name: 'bad-escape', url: '%zz', json: null },
  { name: 'dotdot', url: '..', json: null },
  { name: 'slash', url: 'a%2Fb', json: null },
];
/** Request headers the app reads, hostile (an anonymous visitor's: its cookies are these). */
const HEADER_SETS: Record<string, string>[] = [
  { cookie: 'aslo_session=%00; aslo_lang=%ff%00; aslo_primary=99999999999999999999' },
  { cookie: `aslo_session=${'x'.repeat(5000)}; aslo_csrf=%00` },
  { authorization: 'Bearer %00' },
  { authorization: `Bearer ${'x'.repeat(10_000)}` },
  { 'accept-language': 'x'.repeat(LONG) },
  { 'accept-language': 'en;q=1e308, *;q=-1, es;q=NaN' },
  { range: 'bytes=99999999999999999999-' },
  { range: 'bytes=-99999999999999999999, 5-1' },
  { 'if-none-match': 'x'.repeat(10_000) },
  { 'x-forwarded-for': 'garbage, ::ffff:999.1.1.1', 'x-forwarded-proto': 'gopher' },
  { 'user-agent': 'SugarLabs/99999999999999999999 Sugar/99999999999999999999.1' },
  { 'user-agent': 'Sugar/0.%00', accept: 'application/metalink4+xml' },
  { 'accept-encoding': 'x'.repeat(10_000), 'x-request-id': 'x'.repeat(10_000) },
  { 'content-type': 'application/json; charset=ebcdic' },
];

/** With every key at once, a long value is 2 KB (100 keys of 100 KB would be a 10 MB URL); alone, each key gets the full 100 KB. */
const ALL_KEYS_LONG = 'x'.repeat(2000);

function urlValue(k: Kind, allKeys: boolean): string {
  return allKeys && k.name === 'long' ? ALL_KEYS_LONG : k.url;
}
function jsonValue(k: Kind, allKeys: boolean): unknown {
  return allKeys && k.name === 'long' ? ALL_KEYS_LONG : k.json;
}

// ---- the app's own forms ----------------------------------------------------------------------

interface FoundForm {
  method: 'GET' | 'POST';
  action: string;
  multipart: boolean;
  fields: { name: string; type: string; value: string; required: boolean }[];
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(attrs: string, name: string): string | null {
  const m = new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(attrs);
  return m ? unescapeHtml(m[1]!) : null;
}

/** The forms of a page, with their fields and the values the page gives them. */
function formsIn(html: string): FoundForm[] {
  const out: FoundForm[] = [];
  for (const f of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = f[1]!;
    const inner = f[2]!;
    const action = attr(attrs, 'action');
    if (!action || !action.startsWith('/')) continue;
    const fields: FoundForm['fields'] = [];
    const seen = new Set<string>();
    const add = (name: string | null, type: string, value: string, required: boolean) => {
      if (!name || name === '_csrf' || seen.has(name)) return;
      seen.add(name);
      fields.push({ name, type, value, required });
    };
    const required = (a: string) => /\srequired\b/i.test(a);
    for (const m of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const type = (attr(m[1]!, 'type') ?? 'text').toLowerCase();
      if (type === 'submit' || type === 'button') continue;
      // A box or button that is not checked sends nothing.
      const checkable = type === 'checkbox' || type === 'radio';
      add(attr(m[1]!, 'name'), type, checkable && !/\schecked\b/i.test(m[1]!) ? '' : (attr(m[1]!, 'value') ?? (checkable ? 'on' : '')), required(m[1]!));
    }
    for (const m of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) add(attr(m[1]!, 'name'), 'textarea', unescapeHtml(m[2]!), required(m[1]!));
    for (const m of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/gi))
      add(attr(m[1]!, 'name'), 'select', attr(/<option\b([^>]*)>/i.exec(m[2]!)?.[1] ?? '', 'value') ?? '', required(m[1]!));
    out.push({
      method: (attr(attrs, 'method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET',
      action,
      multipart: /multipart\/form-data/i.test(attrs),
      fields,
    });
  }
  return out;
}

/** The bytes a percent-encoded value stands for (whether or not they are UTF-8). */
function percentDecoded(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(s[i]!));
  }
  return Buffer.from(bytes);
}

let plausibleSeq = 0;

/** A value the form would accept for an empty field, by its type and name. */
function plausibleField(f: FoundForm['fields'][number]): string {
  if (f.value) return f.value;
  // An optional field left empty is what most people send.
  if (!f.required) return '';
  if (f.type === 'email' || /email/.test(f.name)) return uniqueEmail('form');
  // Unique, so that a form that creates something (a mirror, a collection) is not refused as a duplicate.
  const n = ++plausibleSeq;
  if (f.type === 'url' || /_url$/.test(f.name)) return `http://127.0.0.1:9/walk${n}`;
  if (f.type === 'number') return '1';
  if (f.type === 'password' || /password/.test(f.name)) return PASSWORD;
  return `walk${n}`;
}

/** A logged error line, short: what failed, on which request. */
function briefLog(line: string): string {
  try {
    const o = JSON.parse(line) as { msg?: string; req?: { url?: string }; err?: { message?: string; code?: string }; reqId?: string };
    return `${o.msg}: ${o.err?.code ?? ''} ${o.err?.message?.slice(0, 200) ?? ''}`;
  } catch {
    return line.slice(0, 300);
  }
}

// ---- the walk -------------------------------------------------------------------------------

/** A request still unanswered after a minute is taken as one that never will be. */
const NO_ANSWER_MS = 60_000;

interface Actor {
  name: 'anonymous' | 'user' | 'admin';
  browser: Browser;
  csrf: string;
  token: string | null;
  email: string | null;
}

interface Plausible {
  [param: string]: string;
}

describe('hostile input on every route', () => {
  let env: TestEnv;
  let ctx: AppContext;
  let app: FastifyInstance;
  const errorLogs: string[] = [];
  const infoLogs: { level: number; code?: string; msg?: string }[] = [];
  let plausible: Plausible;
  let bundleId: string;
  let fileName: string;
  let fileId: number;
  let png: Buffer;

  before(async () => {
    const high = '1000000';
    env = await createTestEnv({
      env: {
        ASLO_RATE_LIMITS_LOGIN_PER_ADDRESS: high,
        ASLO_RATE_LIMITS_LOGIN_PER_ACCOUNT: high,
        ASLO_RATE_LIMITS_REGISTER_PER_ADDRESS: high,
        ASLO_RATE_LIMITS_RESET_PER_ADDRESS: high,
        ASLO_RATE_LIMITS_RESET_PER_ACCOUNT: high,
        ASLO_RATE_LIMITS_UPLOAD_PER_ADDRESS: high,
        ASLO_RATE_LIMITS_UPLOAD_PER_ACCOUNT: high,
        ASLO_RATE_LIMITS_REPORT_PER_ADDRESS: high,
        ASLO_RATE_LIMITS_REPORT_PER_ACCOUNT: high,
      },
    });
    ctx = await createContext(env.config, { migrate: true, generateSecrets: true });
    // Every line at info and above is read: error-level lines fail the test.
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          const o = JSON.parse(line) as { level: number; code?: string; msg?: string };
          if (o.level >= 50) errorLogs.push(line.slice(0, 2000));
          else infoLogs.push(o);
        }
        cb();
      },
    });
    app = await build(env.config, { context: ctx, logger: { level: 'info', stream } });
    await app.ready();

    // Something for the plausible path values to name: a public activity with a screenshot, a
    // rating, a report, a mirror and a collection.
    const dir = await tempDir();
    const author = await makeActor('user', 'author');
    bundleId = 'org.test.walk.Paint';
    fileName = `${bundleId}-1.xo`;
    const up = await apiUpload(app, author.token, await readFile(await buildActivity(dir, { bundleId, name: 'Walk Paint', version: '1' })), fileName);
    assert.ok(up.statusCode < 300, up.body);
    fileId = (up.json() as { file_id: number }).file_id;
    const admin = await app.accounts.createUser({ email: uniqueEmail('setup'), displayName: 'setup', password: PASSWORD, role: 'admin' });
    const adminActor = actorFromUser(admin, 'session');
    const a = await app.publishing.activityByBundleId(bundleId);
    const authorUser = await ctx.db.selectFrom('users').select(['id']).where('email', '=', author.email!).executeTakeFirstOrThrow();
    await app.review.nominate(actorFromUser((await app.accounts.getUser(authorUser.id))!, 'session'), a.id, 'please review');
    // The versions reviewed are named (decisions cover exactly those where the review service asks for them).
    await (app.review.decide as (...args: unknown[]) => Promise<unknown>)(adminActor, 'activity', a.id, 'approve', 'ok', ['1']);
    png = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#884422' } })
      .png()
      .toBuffer();
    const sid = await app.listing.addScreenshot(adminActor, a.id, Readable.from([png]), 'shot');
    const ratingId = await app.ratings.rate(adminActor, bundleId, 4, 'nice');
    const reportId = await app.ratings.report(null, bundleId, 'spam', 'bad', '127.0.0.9');
    const mirror = await new MirrorRegistry(ctx).add({
      name: 'walk.example',
      httpUrl: 'http://127.0.0.1:9/sugar',
      country: 'DE',
      continent: null,
      asn: null,
      latitude: null,
      longitude: null,
      enabled: true,
    });
    await app.services.collections.create('walk', { name: 'Walk' });
    await app.services.collections.add('walk', bundleId);
    const version = await ctx.db.selectFrom('versions').select('id').where('activity_id', '=', a.id).executeTakeFirstOrThrow();
    const tag = await ctx.db
      .selectFrom('tags')
      .select('slug')
      .executeTakeFirst()
      .catch(() => undefined);
    plausible = {
      locale: 'en',
      bundle_id: bundleId,
      bundle: bundleId,
      id: String(a.id),
      fileId: String(fileId),
      versionId: String(version.id),
      vid: String(version.id),
      sid: String(sid),
      uid: String(authorUser.id),
      name: fileName,
      file: 'style.css',
      kind: 'activity',
      version: '1',
      nickname: 'walk',
      slug: (tag as { slug?: string } | undefined)?.slug ?? 'games',
      tag: 'es',
      '*': 'x',
    };
    // Ids of the other kinds the routes name by :id (a rating, a report, a mirror) are tried by the
    // plain value '1' as well as the activity's id.
    void ratingId;
    void reportId;
    void mirror;
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
    await env?.cleanup();
  });

  const allScopes: TokenScope[] = ['publish', 'read', 'review' as TokenScope];

  async function makeActor(name: Actor['name'], prefix: string = name): Promise<Actor> {
    const browser = new Browser(app);
    if (name === 'anonymous') {
      await browser.get('/account/login');
      return { name, browser, csrf: browser.lastCsrf!, token: null, email: null };
    }
    const email = uniqueEmail(prefix);
    const user = await app.accounts.createUser({ email, displayName: prefix, password: PASSWORD, role: name === 'admin' ? 'admin' : 'user' });
    const actor = actorFromUser(user, 'session');
    // Every scope the store knows, so that the API's hostile values reach its handlers.
    let token: string;
    try {
      token = (await app.accounts.createApiToken(actor, { name: 'walk', scopes: allScopes, expiresInDays: 30 })).token;
    } catch {
      token = (await app.accounts.createApiToken(actor, { name: 'walk', scopes: ['publish', 'read'], expiresInDays: 30 })).token;
    }
    await browser.login(email, PASSWORD);
    await browser.get('/account/login');
    return { name, browser, csrf: browser.lastCsrf!, token, email };
  }

  /** A logged-in actor whose session or token a walked route ended (logout, revoke) is replaced. */
  async function keepAlive(a: Actor): Promise<Actor> {
    if (a.name === 'anonymous') return a;
    const page = await a.browser.get('/account');
    const api = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${a.token}` } });
    if (page.statusCode === 200 && api.statusCode === 200 && (api.json() as { role: string }).role === (a.name === 'admin' ? 'admin' : 'user')) return a;
    return makeActor(a.name);
  }

  function cookieOf(a: Actor): string {
    return [...a.browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  function fillPath(pattern: string, hostile: { param: string; value: string } | null): string {
    return pattern
      .replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, p: string) => (hostile && hostile.param === p ? hostile.value : (plausible[p] ?? '1')))
      .replace(/\*/g, () => (hostile && hostile.param === '*' ? hostile.value : plausible['*']!));
  }

  function paramsOf(pattern: string): string[] {
    const out = [...pattern.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
    if (pattern.includes('*')) out.push('*');
    return out;
  }

  it('answers no hostile request with a 5xx, logs no error, and keeps serving', { timeout: 15 * 60_000 }, async () => {
    const generic = appKeys();
    const routes = app.registeredRoutes.filter((r) => r.method !== 'OPTIONS');
    assert.ok(routes.length > 50, `the route table has ${routes.length} routes`);
    const failures = new Map<string, string>();
    let sent = 0;
    let actors: Actor[] = [await makeActor('anonymous'), await makeActor('user'), await makeActor('admin')];
    /** The forms the app's pages show each actor (filled in below, then walked field by field). */
    const forms = new Map<string, { actor: Actor['name']; form: FoundForm }>();

    const send = async (a: Actor, route: RegisteredRoute, what: string, opts: InjectOptions) => {
      const isApi = route.url.startsWith('/api/');
      const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
      const cookie = cookieOf(a);
      if (cookie) headers.cookie = headers.cookie ? `${headers.cookie}; ${cookie}` : cookie;
      if (isApi && a.token && !('authorization' in headers)) headers.authorization = `Bearer ${a.token}`;
      if (!isApi && route.method !== 'GET' && route.method !== 'HEAD') headers['x-csrf-token'] ??= a.csrf;
      sent++;
      let res;
      let watchdog: NodeJS.Timeout | undefined;
      try {
        // A request that never ends is a failure too (an upload stream that hangs), reported as
        // such rather than as the whole test running out of time.
        const hung = new Promise<null>((resolve) => (watchdog = setTimeout(() => resolve(null), NO_ANSWER_MS)));
        res = await Promise.race([app.inject({ ...opts, method: route.method as InjectOptions['method'], headers }), hung]);
      } catch (err) {
        failures.set(`${route.method} ${route.url} ${what}`, `inject threw: ${(err as Error).message}`);
        return;
      } finally {
        clearTimeout(watchdog);
      }
      if (res === null) {
        failures.set(`${route.method} ${route.url} ${what}`, `as ${a.name}: no answer at all (${String(opts.url).slice(0, 160)})`);
        return;
      }
      if (res.statusCode >= 500) {
        const key = `${route.method} ${route.url} ${what}`;
        if (!failures.has(key)) failures.set(key, `as ${a.name}: ${res.statusCode} ${String(opts.url).slice(0, 160)} -> ${res.body.slice(0, 300)}`);
      }
    };

    for (let ri = 0; ri < routes.length; ri++) {
      const route = routes[ri]!;
      const isGet = route.method === 'GET' || route.method === 'HEAD';
      const own = [...new Set([...schemaKeys(route.schema?.querystring), ...schemaKeys(route.schema?.body), ...keysIn(String(route.handler))])].filter(
        (k) => k !== '_csrf',
      );
      const keys = [...new Set([...own, ...generic])];
      const params = paramsOf(route.url);
      // HEAD shares its GET's handler: a sample is enough.
      const kindsFor = (list: Kind[]) => (route.method === 'HEAD' ? list.filter((_, i) => i % 6 === ri % 6) : list);
      for (let ai = 0; ai < actors.length; ai++) {
        const a = actors[ai]!;
        const csrfBody = isGet ? undefined : `_csrf=${encodeURIComponent(a.csrf)}`;
        const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
        // 0. hostile headers (anonymous: the cookies are the visitor's own), a rotating sample
        if (a.name === 'anonymous') {
          for (let j = 0; j < 4; j++) {
            const h = HEADER_SETS[(ri * 4 + j) % HEADER_SETS.length]!;
            await send(a, route, `headers ${Object.keys(h).join('+')}`, {
              url: fillPath(route.url, null),
              headers: h,
              ...(csrfBody ? { payload: csrfBody } : {}),
            });
          }
        }
        // 1. each path parameter, the others plausible
        for (const p of params) {
          for (const k of kindsFor(PATH_KINDS)) {
            await send(a, route, `param ${p}=${k.name}`, {
              url: fillPath(route.url, { param: p, value: k.url }),
              ...(csrfBody ? { payload: csrfBody, headers: formHeaders } : {}),
            });
          }
        }
        const base = fillPath(route.url, null);
        if (route.method === 'GET') {
          const page = await a.browser.get(base);
          if (String(page.headers['content-type'] ?? '').startsWith('text/html')) {
            for (const f of formsIn(page.body)) {
              const key = `${a.name} ${f.method} ${f.action.split('?')[0]} ${f.fields.map((x) => x.name).join(',')}`;
              if (!forms.has(key)) forms.set(key, { actor: a.name, form: f });
            }
          }
        }
        // 2. every key at once, each kind (the plain user, who reaches less than the administrator
        // and no more than the visitor on public pages, every other kind)
        for (const k of kindsFor(URL_KINDS).filter((_, i) => a.name !== 'user' || i % 2 === ri % 2)) {
          const v = urlValue(k, true);
          const qs = keys.map((key) => `${encodeURIComponent(key)}=${v}`).join('&');
          if (isGet) {
            await send(a, route, `query all=${k.name}`, { url: `${base}?${qs}` });
          } else {
            await send(a, route, `form all=${k.name}`, { url: base, payload: `${csrfBody}&${qs}`, headers: formHeaders });
          }
        }
        // the array form of every key (a key given twice)
        if (isGet) await send(a, route, 'query all=twice', { url: `${base}?${keys.map((key) => `${key}=1&${key}=x`).join('&')}` });
        // 3. each of the route's own keys alone, with a rotating sample of kinds (the long one always)
        for (let ki = 0; ki < own.length; ki++) {
          const key = own[ki]!;
          const sample = [KINDS[2]!, ...[0, 1, 2, 3].map((j) => URL_KINDS[(ri * 7 + ki * 3 + ai * 5 + j * 5) % URL_KINDS.length]!)];
          for (const k of kindsFor(sample)) {
            if (isGet) await send(a, route, `query ${key}=${k.name}`, { url: `${base}?${encodeURIComponent(key)}=${k.url}` });
            else {
              await send(a, route, `form ${key}=${k.name}`, { url: base, payload: `${csrfBody}&${encodeURIComponent(key)}=${k.url}`, headers: formHeaders });
              await send(a, route, `json ${key}=${k.name}`, {
                url: base,
                payload: JSON.stringify({ _csrf: a.csrf, [key]: k.json }),
                headers: { 'content-type': 'application/json' },
              });
            }
          }
        }
        if (isGet) continue;
        // 4. bodies: JSON with every key at once (each JSON kind), the query too, and broken bodies
        for (const k of KINDS) {
          const body: Record<string, unknown> = { _csrf: a.csrf };
          for (const key of keys) body[key] = jsonValue(k, true);
          await send(a, route, `json all=${k.name}`, { url: base, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        }
        for (const k of [KINDS[0]!, KINDS[3]!, KINDS[5]!]) {
          await send(a, route, `query all=${k.name}`, {
            url: `${base}?${keys.map((key) => `${key}=${urlValue(k, true)}`).join('&')}`,
            payload: csrfBody,
            headers: formHeaders,
          });
        }
        const json = { 'content-type': 'application/json' };
        await send(a, route, 'json deep', {
          url: base,
          payload: `{"_csrf":${JSON.stringify(a.csrf)},"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`,
          headers: json,
        });
        await send(a, route, 'json broken', { url: base, payload: '{"_csrf": "', headers: json });
        await send(a, route, 'json invalid-utf8', {
          url: base,
          payload: Buffer.concat([Buffer.from(`{"_csrf":${JSON.stringify(a.csrf)},"name":"`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
          headers: json,
        });
        await send(a, route, 'json not-object', { url: base, payload: '[1,2,3]', headers: json });
        await send(a, route, 'text nul', { url: base, payload: 'a\u0000b', headers: { 'content-type': 'text/plain' } });
        await send(a, route, 'form invalid-utf8', {
          url: base,
          payload: Buffer.concat([Buffer.from(`${csrfBody}&name=`), Buffer.from([0xff, 0xfe])]),
          headers: formHeaders,
        });
        // 5. multipart: no boundary, a 5,000-character boundary, no closing boundary, hostile fields
        const mpUrl = `${base}${base.includes('?') ? '&' : '?'}_csrf=${encodeURIComponent(a.csrf)}`;
        // Forms carry their CSRF token as the first field (and, for older forms, in the query).
        const part = (b: string, name: string, value: string | Buffer, filename?: string) =>
          Buffer.concat([
            Buffer.from(
              `--${b}\r\nContent-Disposition: form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ''}\r\n${filename !== undefined ? 'Content-Type: application/octet-stream\r\n' : ''}\r\n`,
            ),
            Buffer.isBuffer(value) ? value : Buffer.from(value),
            Buffer.from('\r\n'),
          ]);
        const csrfPart = part('walk', '_csrf', a.csrf);
        await send(a, route, 'multipart no-boundary', {
          url: mpUrl,
          payload: part('b', 'file', 'PK', 'x.xo'),
          headers: { 'content-type': 'multipart/form-data' },
        });
        const longB = 'b'.repeat(5000);
        await send(a, route, 'multipart long-boundary', {
          url: mpUrl,
          payload: Buffer.concat([part(longB, 'file', 'PK', 'x.xo'), Buffer.from(`--${longB}--\r\n`)]),
          headers: { 'content-type': `multipart/form-data; boundary=${longB}` },
        });
        await send(a, route, 'multipart unterminated', {
          url: mpUrl,
          payload: Buffer.concat([
            csrfPart,
            part('walk', 'caption', 'c'),
            Buffer.from('--walk\r\nContent-Disposition: form-data; name="file"; filename="x.xo"\r\n\r\nPK\u0003\u0004 and no end'),
          ]),
          headers: { 'content-type': 'multipart/form-data; boundary=walk' },
        });
        await send(a, route, 'multipart unterminated progress', {
          url: mpUrl,
          payload: Buffer.concat([
            csrfPart,
            Buffer.from('--walk\r\nContent-Disposition: form-data; name="file"; filename="x.xo"\r\n\r\nPK\u0003\u0004 and no end'),
          ]),
          headers: { 'content-type': 'multipart/form-data; boundary=walk', accept: 'application/x-ndjson' },
        });
        // The form fields upload and screenshot forms read, and the route's own (a form takes 10 fields at most).
        const formKeys = [...new Set(['caption', 'sugar_min', 'sugar_max', 'release_notes', ...own])]
          .filter((k) => k !== 'file' && k !== 'screenshot')
          .slice(0, 8);
        const fields = Buffer.concat(
          formKeys.map((k, i) => part('walk', k, [Buffer.from('a\u0000b'), Buffer.from([0xff, 0xfe]), 'x'.repeat(60_000), '\u202e'][(i + ai) % 4]!)),
        );
        await send(a, route, 'multipart nul-field', {
          url: mpUrl,
          payload: Buffer.concat([
            csrfPart,
            part('walk', 'caption', 'a\u0000b'),
            part('walk', 'screenshot', png, 's.png'),
            part('walk', 'file', png, 'x.xo'),
            Buffer.from('--walk--\r\n'),
          ]),
          headers: { 'content-type': 'multipart/form-data; boundary=walk' },
        });
        await send(a, route, 'multipart hostile-fields', {
          url: mpUrl,
          payload: Buffer.concat([csrfPart, fields, part('walk', 'file', Buffer.from('PK\u0003\u0004garbage'), 'a\u0000b.xo'), Buffer.from('--walk--\r\n')]),
          headers: { 'content-type': 'multipart/form-data; boundary=walk' },
        });
        await send(a, route, 'multipart image', {
          url: mpUrl,
          payload: Buffer.concat([
            csrfPart,
            part('walk', 'screenshot', png, '%ff.png'),
            part('walk', 'file', png, '..\\..\\x.xo'),
            Buffer.from('--walk--\r\n'),
          ]),
          headers: { 'content-type': 'multipart/form-data; boundary=walk' },
        });
      }
      actors = await Promise.all(actors.map((x) => keepAlive(x)));
    }
    // The app's own forms, as the page that shows them fills them in, with one field at a time
    // hostile: the other fields are valid, so the hostile value gets as far as a real one would.
    const FORM_ALWAYS = URL_KINDS.filter((k) => ['long', 'huge', 'huge-negative', 'int-overflow', 'exponent'].includes(k.name));
    const FORM_OTHERS = URL_KINDS.filter((k) => !k.name.startsWith('nul') && !FORM_ALWAYS.includes(k));
    let fi = 0;
    let formRequests = 0;
    for (const { actor: who, form } of forms.values()) {
      fi++;
      const [path, query = ''] = form.action.split('?');
      const kept = query.split('&').filter((x) => x && !x.startsWith('_csrf='));
      const candidates = app.registeredRoutes.filter(
        (r) => r.method === form.method && new RegExp(`^${r.url.replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}$`).test(path!),
      );
      const specificity = (r: RegisteredRoute) => (r.url.includes('*') ? 100 : 0) + paramsOf(r.url).length;
      const route = candidates.sort((x, y) => specificity(x) - specificity(y))[0] ?? { method: form.method, url: path!, handler: null };
      for (let j = 0; j < form.fields.length; j++) {
        const field = form.fields[j]!;
        // Every field gets the long string and the numbers no column holds; three of the others rotate.
        const sample = [...FORM_ALWAYS, ...[0, 1, 2].map((x) => FORM_OTHERS[(fi * 5 + j * 3 + x * 4) % FORM_OTHERS.length]!)];
        formRequests += sample.length;
        for (const k of sample) {
          const a = actors.find((x) => x.name === who)!;
          const values = form.fields.map((f) => [f.name, f === field ? k.url : encodeURIComponent(plausibleField(f))] as const);
          const what = `form ${field.name}=${k.name}`;
          if (form.method === 'GET') {
            await send(a, route, what, { url: `${path}?${[...kept, ...values.map(([n, v]) => `${encodeURIComponent(n)}=${v}`)].join('&')}` });
          } else if (form.multipart) {
            const b = 'walkform';
            const parts = form.fields.map((f) => {
              if (f.type === 'file') {
                const head = `--${b}\r\nContent-Disposition: form-data; name="${f.name}"; filename="walk${f.name === 'screenshot' ? '.png' : '.xo'}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
                return Buffer.concat([Buffer.from(head), f.name === 'screenshot' ? png : Buffer.from('PK\u0003\u0004walk'), Buffer.from('\r\n')]);
              }
              const value = f === field ? percentDecoded(k.url) : Buffer.from(plausibleField(f));
              return Buffer.concat([Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${f.name}"\r\n\r\n`), value, Buffer.from('\r\n')]);
            });
            const payload = Buffer.concat([
              Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${a.csrf}\r\n`),
              ...parts,
              Buffer.from(`--${b}--\r\n`),
            ]);
            await send(a, route, what, {
              url: `${path}?${[...kept, `_csrf=${encodeURIComponent(a.csrf)}`].join('&')}`,
              payload,
              headers: { 'content-type': `multipart/form-data; boundary=${b}` },
            });
          } else {
            await send(a, route, what, {
              url: query ? `${path}?${kept.join('&')}` : path!,
              payload: [`_csrf=${encodeURIComponent(a.csrf)}`, ...values.map(([n, v]) => `${encodeURIComponent(n)}=${v}`)].join('&'),
              headers: { 'content-type': 'application/x-www-form-urlencoded' },
            });
          }
        }
        actors = await Promise.all(actors.map((x) => keepAlive(x)));
      }
    }

    // The requests not found by any route: the 404 handler.
    for (const k of PATH_KINDS) {
      await send(actors[0]!, { method: 'GET', url: '/nothing/here', handler: null }, `404 ${k.name}`, { url: `/nothing/${k.url}?x=${k.url}` });
    }

    // Still serving, for everyone.
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/activities/${bundleId}` })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/en/search?q=paint' })).statusCode, 200);
    const admin = await keepAlive(actors[2]!);
    assert.equal((await admin.browser.get('/developers')).statusCode, 200);

    console.log(
      `route walk: ${routes.length} routes, ${forms.size} forms (${formRequests} requests), ${sent} requests, ${failures.size} failures, ${errorLogs.length} error lines`,
    );
    assert.deepEqual(
      { answered5xx: [...failures].map(([k, v]) => `${k}: ${v}`), loggedErrors: errorLogs.map(briefLog) },
      { answered5xx: [], loggedErrors: [] },
    );
  });

  // ---- what the issue names, one by one ----

  it('refuses a NUL byte anywhere with 400 REQUEST_NUL_BYTE', async () => {
    const a = await makeActor('user');
    for (const url of [
      '/en/search?q=%00',
      '/api/v1/activities?q=%00',
      '/ratings/%00',
      '/services/micro-format.php?collection_nickname=%00',
      '/services/update-aslo.php?id=org.x%00&appVersion=0.118',
      '/downloads/file/1/x%00.xo',
      `/api/v1/activities/${bundleId}%00`,
    ]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, url);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'REQUEST_NUL_BYTE', url);
    }
    const cookie = cookieOf(a);
    const form = await app.inject({
      method: 'POST',
      url: '/account/locale',
      payload: `_csrf=${encodeURIComponent(a.csrf)}&locale=es%00`,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.statusCode, 400);
    assert.equal((form.json() as { error: { code: string } }).error.code, 'REQUEST_NUL_BYTE');
    const json = await app.inject({ method: 'POST', url: '/account/locale', payload: { _csrf: a.csrf, locale: { deep: ['es\u0000'] } }, headers: { cookie } });
    assert.equal(json.statusCode, 400);
    assert.equal((json.json() as { error: { code: string } }).error.code, 'REQUEST_NUL_BYTE');
    // An upload's file name, in X-File-Name (percent-encoded) or in a multipart form.
    for (const [header, code] of [
      ['x%00.xo', 'REQUEST_NUL_BYTE'],
      ['x%ff.xo', 'REQUEST_BAD_ENCODING'],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/uploads',
        payload: Buffer.from('PK'),
        headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/octet-stream', 'x-file-name': header },
      });
      assert.equal(res.statusCode, 400, header);
      assert.equal((res.json() as { error: { code: string } }).error.code, code, header);
    }
    const mp = await app.inject({
      method: 'POST',
      url: '/api/v1/uploads',
      payload:
        '--walk\r\nContent-Disposition: form-data; name="sugar_min"\r\n\r\n0.1\u0000\r\n--walk\r\nContent-Disposition: form-data; name="file"; filename="x.xo"\r\n\r\nPK\r\n--walk--\r\n',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'multipart/form-data; boundary=walk' },
    });
    assert.equal(mp.statusCode, 400);
    assert.equal((mp.json() as { error: { code: string } }).error.code, 'REQUEST_NUL_BYTE');
  });

  it('refuses invalid UTF-8 in a URL with 400 REQUEST_BAD_ENCODING', async () => {
    for (const url of [
      '/en/search?q=%ff',
      '/en/search?q=%C3%28',
      '/en/activity/%ff',
      '/api/v1/activities/%C0%AF',
      '/%zz',
      '/services/update-aslo.php?id=%ff',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, url);
      assert.equal((res.json() as { error: { code: string } }).error.code, 'REQUEST_BAD_ENCODING', url);
    }
    // Valid UTF-8, escaped or raw, is fine.
    assert.equal((await app.inject({ method: 'GET', url: '/en/search?q=%C3%B1and%C3%BA' })).statusCode, 200);
  });

  it('answers an id beyond any the database holds with 404', async () => {
    for (const url of [
      '/downloads/file/99999999999999999999/x.xo',
      '/api/v1/files/99999999999999999999',
      '/api/v1/files/9007199254740993',
      '/screenshots/99999999999999999999',
      '/services/update-info/99999999999999999999',
      '/en/sugar/addon/99999999999999999999',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      assert.ok([404, 301, 302].includes(res.statusCode), `${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  });

  it('refuses malformed multipart with 400 MULTIPART_MALFORMED', async () => {
    const a = await makeActor('user');
    const url = '/developers/upload';
    const cookie = cookieOf(a);
    const body = (b: string, end: boolean) =>
      `--${b}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${a.csrf}\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="x.xo"\r\nContent-Type: application/octet-stream\r\n\r\nPK\u0003\u0004 not a zip\r\n${end ? `--${b}--\r\n` : ''}`;
    const cases = [
      { what: 'no boundary', type: 'multipart/form-data', payload: body('x', true) },
      { what: '5,000-character boundary', type: `multipart/form-data; boundary=${'b'.repeat(5000)}`, payload: body('b'.repeat(5000), true) },
      { what: 'no closing boundary', type: 'multipart/form-data; boundary=walk', payload: body('walk', false) },
    ];
    for (const c of cases) {
      for (const target of [
        { url, headers: { cookie, 'x-csrf-token': a.csrf } },
        { url: '/api/v1/uploads', headers: { authorization: `Bearer ${a.token}` } },
      ]) {
        const res = await app.inject({ method: 'POST', url: target.url, payload: c.payload, headers: { ...target.headers, 'content-type': c.type } });
        assert.equal(res.statusCode, 400, `${c.what} to ${target.url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
        assert.match(res.body, /MULTIPART_MALFORMED/, c.what);
      }
    }
    // With a progress stream (Accept: application/x-ndjson) a form cut short ends the stream with
    // the same code, and nothing is logged as an error.
    const errors = errorLogs.length;
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/uploads',
      payload: cases[2]!.payload,
      headers: { authorization: `Bearer ${a.token}`, 'content-type': cases[2]!.type, accept: 'application/x-ndjson' },
    });
    assert.match(res.body, /"event":"error","error":\{"code":"MULTIPART_MALFORMED"/, res.body);
    assert.deepEqual(errorLogs.slice(errors).map(briefLog), []);
  });

  // ---- over a real connection ----

  async function listening(): Promise<{ port: number; app: FastifyInstance; close(): Promise<void> }> {
    const e = await createTestEnv();
    const c = await createContext(e.config, { migrate: true, generateSecrets: true });
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          const o = JSON.parse(line) as { level: number; code?: string; msg?: string };
          if (o.level >= 50) errorLogs.push(line.slice(0, 2000));
          else infoLogs.push(o);
        }
        cb();
      },
    });
    const server = await build(e.config, { context: c, logger: { level: 'info', stream } });
    await server.listen({ port: 0, host: '127.0.0.1' });
    const port = (server.server.address() as { port: number }).port;
    return {
      port,
      app: server,
      async close() {
        await server.close();
        await c.close();
        await e.cleanup();
      },
    };
  }

  /** Sends raw bytes, keeps the socket open, resolves with what came back before the server closed it or `until` matched. */
  function exchange(port: number, head: string, opts: { body?: Buffer; until?: RegExp } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (opts.until && opts.until.test(got)) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('end', () => resolve(got));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.write(head);
      if (opts.body) s.write(opts.body);
    });
  }

  it('answers a Content-Length above the upload limit with 413 before reading the body', async () => {
    const srv = await listening();
    try {
      const limit = env.config.bundles.maxUploadBytes + MULTIPART_ALLOWANCE_BYTES;
      for (const path of ['/api/v1/uploads', '/developers/upload', '/account/login', '/services/update-aslo.php']) {
        // Headers only: the body is never sent, so an answer proves it was not waited for.
        const res = await exchange(
          srv.port,
          `POST ${path} HTTP/1.1\r\nHost: store.test\r\nContent-Type: application/octet-stream\r\nContent-Length: ${limit + 1}\r\n\r\n`,
          { until: /\r\n\r\n[\s\S]*REQUEST_TOO_LARGE/ },
        );
        assert.match(res, /^HTTP\/1\.1 413 /, `${path}: ${res.slice(0, 200)}`);
        assert.match(res, /REQUEST_TOO_LARGE/);
      }
      // Asked to confirm first (Expect: 100-continue), the store never says continue.
      const res = await exchange(
        srv.port,
        `POST /api/v1/uploads HTTP/1.1\r\nHost: store.test\r\nContent-Type: application/octet-stream\r\nExpect: 100-continue\r\nContent-Length: ${limit * 4}\r\n\r\n`,
        { until: /REQUEST_TOO_LARGE/ },
      );
      assert.doesNotMatch(res, /100 Continue/);
      assert.match(res, /^HTTP\/1\.1 413 /);
      // At the limit, the store does say continue.
      const ok = await exchange(
        srv.port,
        `POST /api/v1/uploads HTTP/1.1\r\nHost: store.test\r\nContent-Type: application/octet-stream\r\nExpect: 100-continue\r\nContent-Length: ${limit}\r\n\r\n`,
        { until: /100 Continue/ },
      );
      assert.match(ok, /^HTTP\/1\.1 100 Continue/);
      // The fast paths take URLs that are clean only: a NUL byte is refused the same way there.
      const nul = await exchange(srv.port, 'GET /services/update-aslo.php?id=org.x%00 HTTP/1.1\r\nHost: store.test\r\nConnection: close\r\n\r\n');
      assert.match(nul, /^HTTP\/1\.1 400 [\s\S]*REQUEST_NUL_BYTE/);
      const bad = await exchange(srv.port, 'GET /downloads/file/1/x%ff.xo HTTP/1.1\r\nHost: store.test\r\nConnection: close\r\n\r\n');
      assert.match(bad, /^HTTP\/1\.1 400 [\s\S]*REQUEST_BAD_ENCODING/);
    } finally {
      await srv.close();
    }
  });

  it('logs a client that goes away in the middle of its upload at info, not as an error', async () => {
    const srv = await listening();
    try {
      const user = await srv.app.accounts.createUser({ email: uniqueEmail('abort'), displayName: 'abort', password: PASSWORD });
      const { token } = await srv.app.accounts.createApiToken(actorFromUser(user, 'session'), { name: 'abort', scopes: ['publish', 'read'], expiresInDays: 1 });
      const before = infoLogs.length;
      const errorsBefore = errorLogs.length;
      const head = (path: string, type: string) =>
        `POST ${path} HTTP/1.1\r\nHost: store.test\r\nAuthorization: Bearer ${token}\r\nContent-Type: ${type}\r\nContent-Length: 1000000\r\n\r\n`;
      const cutOff = (head: string, first: Buffer) =>
        new Promise<void>((resolve) => {
          const s = connect(srv.port, '127.0.0.1', () => {
            s.write(head);
            // The first bytes, then the connection is dropped once the store has read them.
            s.write(first, () => setTimeout(() => s.destroy(), 100));
          });
          s.on('close', () => resolve());
          s.on('error', () => resolve());
        });
      // A raw upload and a multipart form, each cut off after 64 KB of its 1 MB.
      await cutOff(head('/api/v1/uploads?filename=x.xo', 'application/octet-stream'), Buffer.alloc(65536, 1));
      await cutOff(
        head('/api/v1/uploads', 'multipart/form-data; boundary=walk'),
        Buffer.concat([Buffer.from('--walk\r\nContent-Disposition: form-data; name="file"; filename="x.xo"\r\n\r\n'), Buffer.alloc(65536, 1)]),
      );
      // Each ends with one line at info saying the client went away (waited for, not timed).
      const closed = () => infoLogs.slice(before).filter((l) => l.code === 'CLIENT_CLOSED').length;
      for (let i = 0; i < 600 && closed() < 2; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(closed(), 2, JSON.stringify(infoLogs.slice(before)).slice(0, 3000));
      assert.deepEqual(errorLogs.slice(errorsBefore).map(briefLog), []);
    } finally {
      await srv.close();
    }
  });
});
