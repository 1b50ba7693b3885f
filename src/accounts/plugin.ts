// The request-level side of accounts, registered once for the whole app (the services it uses
// are made by the composition root, src/composition.ts): cookies, form bodies,
// CSRF tokens (double submit: a signed secret cookie and a token in every form), rate limits
// (in Redis when configured, so every process shares them), and `req.viewer()`, which resolves
// the user from the session cookie (web pages, downloads) or from an API token (/api/ routes).
import fp from 'fastify-plugin';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import csrf from '@fastify/csrf-protection';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AsloError } from '../platform/errors.js';
import type { Viewer } from './access.js';
import type { AccountService } from './service.js';
import type { Mailer } from '../mail/mailer.js';
import { addressKey } from './addresses.js';
import { prepareDummyHash } from './passwords.js';
import { deviceEntries, deviceFor } from './devices.js';

export const SESSION_COOKIE = 'aslo_session';

declare module 'fastify' {
  interface FastifyInstance {
    accounts: AccountService;
    mailer: Mailer;
    /** The shared Redis connection when cache.redisUrl is set. */
    redis: Redis | null;
    limits: Limits;
    /** Count a failed login against the limits its request was checked by (limits.login). */
    loginFailed(req: FastifyRequest): Promise<void>;
    /** Every route registered after the accounts plugin (method and URL): the authorization-matrix test checks it covers each one that changes state. */
    routeTable: { method: string; url: string }[];
  }
  interface FastifyRequest {
    /** Who is making this request (memoized). */
    viewer(): Promise<Viewer>;
    _viewer?: Promise<Viewer>;
    /** The _csrf field of a multipart form (its first field), read by checkMultipartCsrf. */
    _multipartCsrf?: string;
    /** The nonce of this browser's device cookie for the account it logs in to (src/accounts/devices.ts). */
    _loginDevice?: string;
  }
}

export interface Limits {
  login: preHandlerAsyncHookHandler[];
  register: preHandlerAsyncHookHandler[];
  reset: preHandlerAsyncHookHandler[];
  upload: preHandlerAsyncHookHandler[];
  report: preHandlerAsyncHookHandler[];
}

export function isSecureBase(baseUrl: string): boolean {
  return baseUrl.startsWith('https:');
}

export function sessionCookieOptions(app: FastifyInstance, expires?: Date) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: isSecureBase(app.ctx.config.server.baseUrl),
    ...(expires ? { expires } : {}),
  };
}

export function setSessionCookie(app: FastifyInstance, reply: FastifyReply, token: string, expires: Date): void {
  void reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(app, expires));
}

export function clearSessionCookie(app: FastifyInstance, reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(app));
}

function bodyField(req: FastifyRequest, name: string): string | undefined {
  const b = req.body as Record<string, unknown> | undefined;
  const v = b && typeof b === 'object' ? b[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

async function accountsPlugin(app: FastifyInstance): Promise<void> {
  const ctx = app.ctx;
  const config = ctx.config;
  // Redis, the mailer and the account service come from the composition root (src/composition.ts).
  const { redis, accounts } = app;
  // Made now, so the first login for an unknown address is not the slow one (src/accounts/passwords.ts).
  void prepareDummyHash().catch(() => {});
  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routeTable.push({ method: String(method), url: r.url });
  });

  await app.register(cookie, { secret: ctx.secrets.sessionKey });
  await app.register(formbody, { bodyLimit: 1024 * 1024 });
  await app.register(csrf, {
    cookieKey: 'aslo_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: isSecureBase(config.server.baseUrl), signed: true },
    // Never from the URL (it would end up in logs, the history and Referer headers): a form field
    // (multipart forms carry it as their first field, see checkMultipartCsrf), or the X-CSRF-Token header.
    getToken: (req: FastifyRequest) => bodyField(req, '_csrf') ?? req._multipartCsrf ?? (req.headers['x-csrf-token'] as string | undefined) ?? '',
  });
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: `${config.cache.prefix}ratelimit:` } : {}),
    skipOnError: true,
  });

  app.decorateRequest('_viewer', undefined);
  app.decorateRequest('_multipartCsrf', undefined);
  app.decorateRequest('_loginDevice', undefined);
  app.decorateRequest('viewer', function (this: FastifyRequest) {
    this._viewer ??= resolveViewer(app, this);
    return this._viewer;
  });

  const rl = config.rateLimits;
  const timeWindow = rl.windowSeconds * 1000;
  // createRateLimit (not rateLimit): several limits may apply to one request (address and account).
  const limiter = (max: number, keyGenerator: (req: FastifyRequest) => string | Promise<string>): preHandlerAsyncHookHandler => {
    const check = app.createRateLimit({ max, timeWindow, keyGenerator });
    return async (req, reply) => {
      const r = await check(req);
      if (r.isAllowed || !r.isExceeded) return;
      void reply.header('retry-after', r.ttlInSeconds);
      const minutes = Math.max(1, Math.ceil(r.ttlInSeconds / 60));
      throw new AsloError('RATE_LIMITED', `Too many attempts. Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`, { statusCode: 429 });
    };
  };
  // Per-address limits count an IPv6 address's /64 (src/accounts/addresses.ts).
  const byAddress = (group: string, max: number) => limiter(max, (req) => `${group}:addr:${addressKey(req.ip)}`);
  const byAccount = (group: string, max: number, key: (req: FastifyRequest) => Promise<string | null> | string | null) =>
    limiter(max, async (req) => `${group}:acct:${(await key(req)) ?? `addr:${addressKey(req.ip)}`}`);
  /** Counted per logged-in account only (anonymous requests are left to the per-address limit). */
  const byUser = (group: string, max: number): preHandlerAsyncHookHandler => {
    const check = limiter(max, async (req) => `${group}:acct:user:${(await req.viewer())?.userId ?? 0}`);
    return async function (this: FastifyInstance, req, reply) {
      if (!(await req.viewer())) return;
      await check.call(this, req, reply);
    };
  };
  const emailKey = (req: FastifyRequest) => bodyField(req, 'email')?.trim().toLowerCase() || null;
  const userKey = async (req: FastifyRequest) => {
    const v = await req.viewer();
    return v ? `user:${v.userId}` : null;
  };
  // Logins (OWASP's device-cookie pattern). Only failed logins count (the route calls
  // app.loginFailed), so a person who types the password right is never held by their own
  // successes. Failures are throttled per (account, address), so an attacker at one address
  // cannot lock the account for everyone; the per-account lockout (guesses from many
  // addresses) holds only browsers that never logged in to the account: one that did shows a
  // signed device cookie (src/accounts/devices.ts) and is limited per cookie instead.
  const counter = (max: number, keyGenerator: (req: FastifyRequest) => string) => {
    const check = app.createRateLimit({ max, timeWindow, keyGenerator });
    return {
      /** Seconds until the window ends when the limit is reached, else null. */
      async blocked(req: FastifyRequest): Promise<number | null> {
        const r = await check(req, { increment: false });
        return !r.isAllowed && r.remaining <= 0 ? Math.max(1, r.ttlInSeconds) : null;
      },
      async count(req: FastifyRequest): Promise<void> {
        await check(req);
      },
    };
  };
  const loginCounters = {
    accountAddress: counter(rl.loginPerAccountAddress, (req) => `login:acct-addr:${emailKey(req) ?? ''}:${addressKey(req.ip)}`),
    address: counter(rl.loginPerAddress, (req) => `login:addr:${addressKey(req.ip)}`),
    account: counter(rl.loginPerAccount, (req) => `login:acct:${emailKey(req) ?? ''}`),
    device: counter(rl.loginPerAccountAddress, (req) => `login:device:${req._loginDevice ?? ''}`),
  };
  const loginCountersFor = (req: FastifyRequest) =>
    req._loginDevice ? [loginCounters.device] : [loginCounters.accountAddress, loginCounters.address, loginCounters.account];
  const loginLimit: preHandlerAsyncHookHandler = async (req, reply) => {
    const email = emailKey(req);
    const user = email && deviceEntries(req).length > 0 ? await accounts.findByEmail(email) : undefined;
    req._loginDevice = (user && deviceFor(req, user.id)?.nonce) || undefined;
    for (const c of loginCountersFor(req)) {
      const wait = await c.blocked(req);
      if (wait !== null) {
        void reply.header('retry-after', wait);
        const minutes = Math.max(1, Math.ceil(wait / 60));
        throw new AsloError('RATE_LIMITED', `Too many attempts. Wait ${minutes} minute${minutes === 1 ? '' : 's'} and try again.`, { statusCode: 429 });
      }
    }
  };
  app.decorate('loginFailed', async (req: FastifyRequest) => {
    for (const c of loginCountersFor(req)) await c.count(req);
  });
  app.decorate('limits', {
    login: [loginLimit],
    register: [byAddress('register', rl.registerPerAddress)],
    reset: [byAddress('reset', rl.resetPerAddress), byAccount('reset', rl.resetPerAccount, emailKey)],
    upload: [byAddress('upload', rl.uploadPerAddress), byAccount('upload', rl.uploadPerAccount, userKey)],
    report: [byAddress('report', rl.reportPerAddress), byUser('report', rl.reportPerAccount)],
  } satisfies Limits);
}

async function resolveViewer(app: FastifyInstance, req: FastifyRequest): Promise<Viewer> {
  const address = req.ip ?? null;
  const path = req.url;
  if (path.startsWith('/api/')) {
    // The API's writes know only tokens: no cookie means no CSRF exposure. Reads (GET, HEAD)
    // without a token may use the session of a logged-in browser.
    const auth = req.headers.authorization;
    if (!auth) {
      const session = req.method === 'GET' || req.method === 'HEAD' ? req.cookies?.[SESSION_COOKIE] : undefined;
      return session ? app.accounts.viewerFromSession(session, address) : null;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new AsloError('AUTH_HEADER_INVALID', 'The Authorization header must be "Bearer <token>".', { statusCode: 401 });
    const actor = await app.accounts.viewerFromApiToken(m[1]!, address);
    if (!actor)
      throw new AsloError('TOKEN_INVALID', 'This API token is not valid: it is unknown, revoked or expired. Create a new one in your account settings.', {
        statusCode: 401,
      });
    return actor;
  }
  const token = req.cookies?.[SESSION_COOKIE];
  if (!token) return null;
  return app.accounts.viewerFromSession(token, address);
}

/** Run the CSRF check inside a handler (its error is thrown, for the route's error handler). */
export function checkCsrf(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  return new Promise((resolve, reject) => {
    const capture = Object.create(reply) as FastifyReply;
    capture.send = ((err: unknown) => {
      reject(err);
      return capture;
    }) as FastifyReply['send'];
    app.csrfProtection.call(app, req, capture, () => resolve());
  });
}

/**
 * The CSRF check of a multipart form (a streamed upload): its token is the form's first field,
 * `_csrf`, so it is read before the file and never travels in the URL. `fields` are the fields
 * that came before the file part (@fastify/multipart's part.fields).
 */
export async function checkMultipartCsrf(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, fields: Record<string, unknown>): Promise<void> {
  // First means first: fields that arrive after the file may already be parsed (a small body
  // is read ahead), but a token after the file is refused, so the form's order is the rule.
  const first = Object.keys(fields)[0];
  const f = first === '_csrf' ? fields._csrf : undefined;
  const value = Array.isArray(f) ? undefined : (f as { value?: unknown } | undefined)?.value;
  req._multipartCsrf = typeof value === 'string' ? value : '';
  await checkCsrf(app, req, reply);
}

export default fp(accountsPlugin, { name: 'aslo-accounts' });
