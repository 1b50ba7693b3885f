// A tiny browser for hub tests against the real app (app.inject): keeps cookies, reads the CSRF
// token out of the forms of a page and posts forms with it, like a person's browser would.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { readOutbox, type OutboxMail } from '../../src/mail/mailer.js';
import type { AppContext } from '../../src/platform/context.js';

export type Form = Record<string, string | string[] | undefined>;

export function encodeForm(form: Form): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  }
  return p.toString();
}

export class Browser {
  readonly cookies = new Map<string, string>();
  lastCsrf: string | null = null;

  constructor(
    readonly app: FastifyInstance,
    readonly address = '127.0.0.1',
  ) {}

  private cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      if (!c.value || (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m) this.lastCsrf = decodeURIComponent(m[1]!.replace(/&amp;/g, '&'));
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.keep(
      await this.app.inject({
        method: 'GET',
        url,
        remoteAddress: this.address,
        headers: { ...headers, ...(this.cookieHeader() ? { cookie: this.cookieHeader()! } : {}) },
      }),
    );
  }

  /** POST a urlencoded form; the CSRF token of the last page seen is added unless given. */
  async post(url: string, form: Form = {}, opts: { csrf?: string | null } = {}): Promise<LightMyRequestResponse> {
    const csrf = opts.csrf === undefined ? this.lastCsrf : opts.csrf;
    const body = encodeForm({ ...(csrf ? { _csrf: csrf } : {}), ...form });
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.address,
        payload: body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(this.cookieHeader() ? { cookie: this.cookieHeader()! } : {}) },
      }),
    );
  }

  /** GET a page (for its CSRF token), then POST the form to `action`. */
  async submit(pageUrl: string, action: string, form: Form = {}): Promise<LightMyRequestResponse> {
    const pageRes = await this.get(pageUrl);
    if (pageRes.statusCode >= 400) throw new Error(`GET ${pageUrl}: ${pageRes.statusCode} ${pageRes.body.slice(0, 300)}`);
    return this.post(action, form);
  }

  /** POST multipart (an upload form): the CSRF token is the first field, as the form sends it. */
  async postMultipart(
    url: string,
    fields: Record<string, string>,
    file: { field: string; name: string; data: Buffer; type?: string } | null,
    opts: { csrf?: string | null } = {},
  ): Promise<LightMyRequestResponse> {
    const csrf = opts.csrf === undefined ? this.lastCsrf : opts.csrf;
    const boundary = '----aslotest' + Math.random().toString(16).slice(2);
    const parts: Buffer[] = [];
    for (const [k, v] of Object.entries({ ...(csrf ? { _csrf: csrf } : {}), ...fields })) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
    }
    if (file) {
      parts.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: ${file.type ?? 'application/octet-stream'}\r\n\r\n`,
        ),
      );
      parts.push(file.data, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.address,
        payload: Buffer.concat(parts),
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...(this.cookieHeader() ? { cookie: this.cookieHeader()! } : {}) },
      }),
    );
  }

  async login(email: string, password: string): Promise<LightMyRequestResponse> {
    const res = await this.submit('/account/login', '/account/login', { email, password });
    if (res.statusCode !== 303) throw new Error(`login of ${email} failed: ${res.statusCode} ${res.body.slice(0, 500)}`);
    return res;
  }
}

export function mailsTo(ctx: AppContext, to: string): OutboxMail[] {
  return readOutbox(ctx.config.storage.outboxDir).filter((m) => m.to.toLowerCase() === to.toLowerCase());
}

/** The first link in the newest mail to `to` whose path starts with `path`. */
export function linkInMail(ctx: AppContext, to: string, path: string): string {
  const mails = mailsTo(ctx, to);
  for (const m of mails.reverse()) {
    const found = m.text.match(/https?:\/\/\S+/g)?.find((u) => new URL(u).pathname === path);
    if (found) {
      const u = new URL(found);
      return u.pathname + u.search;
    }
  }
  throw new Error(`no mail to ${to} with a link to ${path}`);
}

let seq = 0;
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}${++seq}-${Math.random().toString(36).slice(2, 7)}@example.org`;
}

export const PASSWORD = 'correct horse battery staple';
