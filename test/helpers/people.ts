// People for hub, review and security tests: verified accounts with roles, logged-in browsers
// and API tokens, created through the real services.
import type { FastifyInstance } from 'fastify';
import { actorFromUser } from '../../src/accounts/service.js';
import type { Actor } from '../../src/accounts/access.js';
import type { Role, TokenScope } from '../../src/platform/db/schema.js';
import { Browser, PASSWORD, uniqueEmail } from './browser.js';

export interface Person {
  id: number;
  email: string;
  actor: Actor;
  token: string;
  browser: Browser;
}

export async function person(
  app: FastifyInstance,
  opts: { role?: Role; prefix?: string; scopes?: TokenScope[]; verified?: boolean; login?: boolean } = {},
): Promise<Person> {
  const email = uniqueEmail(opts.prefix ?? opts.role ?? 'dev');
  const user = await app.accounts.createUser({
    email,
    displayName: `${opts.prefix ?? opts.role ?? 'dev'} ${email.split('@')[0]}`,
    password: PASSWORD,
    role: opts.role ?? 'user',
  });
  if (opts.verified === false) await app.ctx.db.updateTable('users').set({ email_verified_at: null }).where('id', '=', user.id).execute();
  const actor = actorFromUser({ ...user, email_verified_at: opts.verified === false ? null : user.email_verified_at }, 'session');
  const { token } = await app.accounts.createApiToken(actor, { name: 'test', scopes: opts.scopes ?? ['publish', 'read'], expiresInDays: 30 });
  const browser = new Browser(app);
  if (opts.login !== false) await browser.login(email, PASSWORD);
  return { id: user.id, email, actor, token, browser };
}

/** POST a bundle to the API as raw bytes. */
export async function apiUpload(app: FastifyInstance, token: string | null, data: Buffer, fileName: string, extra: { query?: string; accept?: string } = {}) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/uploads?filename=${encodeURIComponent(fileName)}${extra.query ? `&${extra.query}` : ''}`,
    payload: data,
    headers: {
      'content-type': 'application/octet-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(extra.accept ? { accept: extra.accept } : {}),
    },
  });
}
