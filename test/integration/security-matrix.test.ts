// The authorization matrix: every route that changes state, tried as an anonymous visitor, a
// plain user, the author of another activity, the activity's author, an editor and an
// administrator, asserting the exact set of who may. Every attempt carries a valid CSRF token
// (web forms) or a valid token (API), so what is tested is authorization, not CSRF. The test
// also checks that it covers every state-changing route the app has.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { LightMyRequestResponse } from 'fastify';
import sharp from 'sharp';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { Browser, PASSWORD, linkInMail, uniqueEmail } from '../helpers/browser.js';
import { actorFromUser } from '../../src/accounts/service.js';
import { MirrorRegistry } from '../../src/mirrors/registry.js';
import { setSourceUrl } from '../../src/build/settings.js';
import { createHmac, randomUUID } from 'node:crypto';

const ACTORS = ['anonymous', 'user', 'otherAuthor', 'author', 'editor', 'admin'] as const;
type ActorName = (typeof ACTORS)[number];
const LOGGED_IN: ActorName[] = ['user', 'otherAuthor', 'author', 'editor', 'admin'];

interface Client {
  name: ActorName;
  browser: Browser;
  token: string | null;
  person: Person | null;
}

interface Case {
  method: 'POST' | 'PUT';
  route: string;
  allowed: ActorName[];
  /** Fresh clients (own session) for routes that change the actor's own account. */
  freshClient?: boolean;
  run(c: Client): Promise<LightMyRequestResponse>;
}

describe('authorization matrix', () => {
  let t: TestApp;
  let dir: string;
  let shared: Record<Exclude<ActorName, 'anonymous'>, Person>;
  let n = 0;
  let png: Buffer;

  before(async () => {
    const high = '1000000';
    t = await createTestApp({
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
    dir = await tempDir();
    shared = {
      user: await person(t.app, { prefix: 'user' }),
      otherAuthor: await person(t.app, { prefix: 'other' }),
      author: await person(t.app, { prefix: 'author' }),
      editor: await person(t.app, { role: 'editor' }),
      admin: await person(t.app, { role: 'admin' }),
    };
    await upload(shared.otherAuthor, `org.test.mx.Other`, '1');
    png = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#884422' } })
      .png()
      .toBuffer();
  });
  after(async () => {
    await t.cleanup();
  });

  async function bundle(bundleId: string, version: string) {
    return readFile(await buildActivity(dir, { bundleId, name: `Mx ${bundleId.split('.').pop()}`, version, payload: String(++n) }));
  }
  async function upload(p: Person, bundleId: string, version: string) {
    const res = await apiUpload(t.app, p.token, await bundle(bundleId, version), `${bundleId}-${version}.xo`);
    assert.ok(res.statusCode < 300, res.body);
    return res.json() as { file_id: number };
  }
  /** A new activity owned by the shared author, in the given state. */
  async function activity(state: 'sandbox' | 'nominated' | 'public', opts: { coauthor?: Person } = {}) {
    const bid = `org.test.mx.A${++n}`;
    const r = await upload(shared.author, bid, '1');
    const a = await t.app.publishing.activityByBundleId(bid);
    if (opts.coauthor) await t.app.publishing.addAuthor(shared.author.actor, a.id, opts.coauthor.email, 'developer');
    if (state !== 'sandbox') await t.app.review.nominate(shared.author.actor, a.id, 'please review');
    if (state === 'public') await t.app.review.decide(shared.admin.actor, 'activity', a.id, 'approve', 'ok', ['1']);
    return { id: a.id, bid, fileId: r.file_id };
  }
  async function freshUser(prefix = 'fresh') {
    const email = uniqueEmail(prefix);
    const u = await t.app.accounts.createUser({ email, displayName: prefix, password: PASSWORD });
    return { ...u, actor: actorFromUser(u, 'session') };
  }
  async function client(name: ActorName, fresh: boolean): Promise<Client> {
    if (name === 'anonymous') {
      const b = new Browser(t.app);
      await b.get('/account/login');
      return { name, browser: b, token: null, person: null };
    }
    let p = shared[name];
    if (fresh) p = await person(t.app, { role: name === 'editor' || name === 'admin' ? name : 'user', prefix: name });
    await p.browser.get('/account/login');
    return { name, browser: p.browser, token: p.token, person: p };
  }
  /** A sandbox activity of the shared author whose source repository is set. */
  async function withSource() {
    const a = await activity('sandbox');
    await setSourceUrl(t.ctx, shared.author.actor, a.id, `https://git.example.org/mx/source-${++n}.git`);
    return a;
  }
  /** A mirror registered through the same registry as the admin page and the CLI. */
  async function mirror(enabled = true) {
    return new MirrorRegistry(t.ctx).add({
      name: `mx${++n}.example`,
      httpUrl: 'http://127.0.0.1:9/sugar',
      country: 'DE',
      continent: null,
      asn: null,
      latitude: null,
      longitude: null,
      enabled,
    });
  }
  const csrfPost = async (c: Client, url: string, form: Record<string, string>) => {
    await c.browser.get('/account/login');
    return c.browser.post(url, form);
  };
  const api = (c: Client, url: string, payload: unknown) =>
    t.app.inject({ method: 'POST', url, payload: payload as object, headers: c.token ? { authorization: `Bearer ${c.token}` } : {} });

  const cases: Case[] = [
    // --- accounts -------------------------------------------------------------------------------
    {
      method: 'POST',
      route: '/account/register',
      allowed: [...ACTORS],
      freshClient: true,
      run: (c) => csrfPost(c, '/account/register', { email: uniqueEmail('reg'), display_name: 'R', password: PASSWORD }),
    },
    {
      method: 'POST',
      route: '/account/verify',
      allowed: [...ACTORS],
      freshClient: true,
      run: async (c) => {
        const email = uniqueEmail('ver');
        await t.app.accounts.register({ email, displayName: 'V', password: PASSWORD }, {});
        return csrfPost(c, '/account/verify', { token: new URL(linkInMail(t.ctx, email, '/account/verify'), 'http://x').searchParams.get('token')! });
      },
    },
    { method: 'POST', route: '/account/verify/resend', allowed: LOGGED_IN, freshClient: true, run: (c) => csrfPost(c, '/account/verify/resend', {}) },
    {
      method: 'POST',
      route: '/account/login',
      allowed: [...ACTORS],
      freshClient: true,
      run: async (c) => {
        const u = await freshUser('login');
        return csrfPost(c, '/account/login', { email: u.email, password: PASSWORD });
      },
    },
    { method: 'POST', route: '/account/logout', allowed: [...ACTORS], freshClient: true, run: (c) => csrfPost(c, '/account/logout', {}) },
    {
      method: 'POST',
      route: '/account/forgot',
      allowed: [...ACTORS],
      freshClient: true,
      run: async (c) => csrfPost(c, '/account/forgot', { email: (await freshUser('forgot')).email }),
    },
    {
      method: 'POST',
      route: '/account/reset',
      allowed: [...ACTORS],
      freshClient: true,
      run: async (c) => {
        const u = await freshUser('reset');
        await t.app.accounts.requestPasswordReset(u.email);
        return csrfPost(c, '/account/reset', {
          token: new URL(linkInMail(t.ctx, u.email, '/account/reset'), 'http://x').searchParams.get('token')!,
          password: 'a new password 123',
        });
      },
    },
    {
      method: 'POST',
      route: '/account/email',
      allowed: LOGGED_IN,
      freshClient: true,
      run: (c) => csrfPost(c, '/account/email', { email: uniqueEmail('chg'), current_password: PASSWORD }),
    },
    {
      method: 'POST',
      route: '/account/email/confirm',
      allowed: [...ACTORS],
      freshClient: true,
      run: async (c) => {
        const u = await freshUser('conf');
        const to = uniqueEmail('newaddr');
        await t.app.accounts.requestEmailChange(u.actor, PASSWORD, to);
        return csrfPost(c, '/account/email/confirm', {
          token: new URL(linkInMail(t.ctx, to, '/account/email/confirm'), 'http://x').searchParams.get('token')!,
        });
      },
    },
    { method: 'POST', route: '/account/locale', allowed: LOGGED_IN, freshClient: true, run: (c) => csrfPost(c, '/account/locale', { locale: 'es' }) },
    {
      method: 'POST',
      route: '/account/password',
      allowed: LOGGED_IN,
      freshClient: true,
      run: (c) => csrfPost(c, '/account/password', { current_password: PASSWORD, password: 'another password 9' }),
    },
    {
      method: 'POST',
      route: '/account/delete',
      allowed: LOGGED_IN,
      freshClient: true,
      run: (c) => csrfPost(c, '/account/delete', { current_password: PASSWORD }),
    },
    {
      method: 'POST',
      route: '/account/tokens',
      allowed: LOGGED_IN,
      freshClient: true,
      run: (c) => csrfPost(c, '/account/tokens', { name: 'matrix', scopes: 'read', expires_in_days: '5' }),
    },
    {
      method: 'POST',
      route: '/account/tokens/:id/revoke',
      allowed: ['author'],
      run: async (c) => {
        const { id } = await t.app.accounts.createApiToken(shared.author.actor, { name: 'to revoke', scopes: ['read'], expiresInDays: 5 });
        return csrfPost(c, `/account/tokens/${id}/revoke`, {});
      },
    },
    {
      method: 'POST',
      route: '/admin/users/:id/role',
      allowed: ['admin'],
      run: async (c) => csrfPost(c, `/admin/users/${(await freshUser('role')).id}/role`, { role: 'editor', reason: 'matrix' }),
    },

    // --- publishing -------------------------------------------------------------------------
    {
      method: 'POST',
      route: '/api/v1/uploads',
      allowed: ['author'],
      run: async (c) => apiUpload(t.app, c.token, await bundle((await activity('public')).bid, '2'), 'x.xo'),
    },
    {
      method: 'POST',
      route: '/developers/upload',
      allowed: ['author'],
      run: async (c) => {
        const a = await activity('public');
        await c.browser.get('/account/login');
        return c.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'x.xo', data: await bundle(a.bid, '2') });
      },
    },
    {
      method: 'POST',
      route: '/api/v1/developer/activities/:bundle_id/nominate',
      allowed: ['author'],
      run: async (c) => api(c, `/api/v1/developer/activities/${(await activity('sandbox')).bid}/nominate`, { message: 'please' }),
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/nominate',
      allowed: ['author'],
      run: async (c) => csrfPost(c, `/developers/activities/${(await activity('sandbox')).id}/nominate`, { message: 'please' }),
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/listing',
      allowed: ['author', 'admin'],
      run: async (c) => csrfPost(c, `/developers/activities/${(await activity('sandbox')).id}/listing`, { name: 'Renamed', summary: 's', tags: 'x' }),
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/versions/:vid',
      allowed: ['author', 'admin'],
      run: async (c) => {
        const a = await activity('sandbox');
        const v = await t.ctx.db.selectFrom('versions').select('id').where('activity_id', '=', a.id).executeTakeFirstOrThrow();
        return csrfPost(c, `/developers/activities/${a.id}/versions/${v.id}`, { sugar_min: '0.116', sugar_max: '', release_notes: 'notes' });
      },
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/screenshots',
      allowed: ['author', 'admin'],
      run: async (c) => {
        const a = await activity('sandbox');
        await c.browser.get('/account/login');
        return c.browser.postMultipart(
          `/developers/activities/${a.id}/screenshots`,
          { caption: 'c' },
          { field: 'screenshot', name: 's.png', data: png, type: 'image/png' },
        );
      },
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/screenshots/:sid/delete',
      allowed: ['author', 'admin'],
      run: async (c) => {
        const a = await activity('sandbox');
        const { Readable } = await import('node:stream');
        const sid = await t.app.listing.addScreenshot(shared.author.actor, a.id, Readable.from([png]), null);
        return csrfPost(c, `/developers/activities/${a.id}/screenshots/${sid}/delete`, {});
      },
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/authors',
      allowed: ['author'],
      run: async (c) =>
        csrfPost(c, `/developers/activities/${(await activity('sandbox')).id}/authors`, { email: (await freshUser('co')).email, role: 'developer' }),
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/authors/:uid/remove',
      allowed: ['author'],
      run: async (c) => {
        const co = await person(t.app, { prefix: 'co', login: false });
        const a = await activity('sandbox', { coauthor: co });
        return csrfPost(c, `/developers/activities/${a.id}/authors/${co.id}/remove`, {});
      },
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/authors/:uid/transfer',
      allowed: ['author'],
      run: async (c) => {
        const co = await person(t.app, { prefix: 'co', login: false });
        const a = await activity('sandbox', { coauthor: co });
        return csrfPost(c, `/developers/activities/${a.id}/authors/${co.id}/transfer`, {});
      },
    },
    {
      method: 'POST',
      route: '/admin/activities/:id/trusted',
      allowed: ['admin'],
      run: async (c) => csrfPost(c, `/admin/activities/${(await activity('public')).id}/trusted`, { trusted: '1', reason: 'matrix' }),
    },
    {
      method: 'POST',
      route: '/admin/activities/:id/enable',
      allowed: ['admin'],
      run: async (c) => {
        const a = await activity('public');
        await t.app.review.decide(shared.admin.actor, 'activity', a.id, 'disable', 'matrix');
        return csrfPost(c, `/admin/activities/${a.id}/enable`, { comment: 'false alarm' });
      },
    },
    {
      method: 'POST',
      route: '/admin/activities/:id/reassign',
      allowed: ['admin'],
      run: async (c) =>
        csrfPost(c, `/admin/activities/${(await activity('sandbox')).id}/reassign`, { email: (await freshUser('heir')).email, reason: 'abandoned' }),
    },

    // --- review -------------------------------------------------------------------------------
    {
      method: 'POST',
      route: '/editors/review/:kind/:id',
      allowed: ['editor', 'admin'],
      run: async (c) => csrfPost(c, `/editors/review/activity/${(await activity('nominated')).id}`, { action: 'approve', comment: 'ok', versions: '1' }),
    },
    {
      // The editors' API, with a token of the review scope for everyone who has an account.
      method: 'POST',
      route: '/api/v1/review/activities/:bundle_id/decision',
      allowed: ['editor', 'admin'],
      run: async (c) => {
        const a = await activity('nominated');
        const token = c.person ? (await t.app.accounts.createApiToken(c.person.actor, { name: 'review', scopes: ['review'], expiresInDays: 5 })).token : null;
        return api({ ...c, token }, `/api/v1/review/activities/${a.bid}/decision`, { action: 'approve', versions: ['1'], comment: 'ok' });
      },
    },
    {
      method: 'POST',
      route: '/editors/review/:kind/:id',
      allowed: ['editor', 'admin'],
      run: async (c) => {
        const a = await activity('public');
        const r = await upload(shared.author, a.bid, '2');
        return csrfPost(c, `/editors/review/file/${r.file_id}`, { action: 'return', comment: 'needs work' });
      },
    },

    // --- ratings and reports -----------------------------------------------------------------
    {
      method: 'POST',
      route: '/ratings/:bundle_id',
      allowed: ['user', 'otherAuthor', 'editor', 'admin'],
      run: async (c) => csrfPost(c, `/ratings/${(await activity('public')).bid}`, { rating: '4', body: 'nice' }),
    },
    {
      method: 'POST',
      route: '/ratings/review/:id/reply',
      allowed: ['author'],
      run: async (c) => {
        const a = await activity('public');
        const id = await t.app.ratings.rate((await freshUser('rater')).actor, a.bid, 3, 'ok');
        return csrfPost(c, `/ratings/review/${id}/reply`, { body: 'thanks' });
      },
    },
    {
      method: 'POST',
      route: '/ratings/review/:id/flag',
      allowed: LOGGED_IN,
      run: async (c) => {
        const a = await activity('public');
        const id = await t.app.ratings.rate((await freshUser('rater')).actor, a.bid, 1, 'spam spam');
        return csrfPost(c, `/ratings/review/${id}/flag`, { reason: 'spam' });
      },
    },
    {
      method: 'POST',
      route: '/editors/flags/:id',
      allowed: ['editor', 'admin'],
      run: async (c) => {
        const a = await activity('public');
        const id = await t.app.ratings.rate((await freshUser('rater')).actor, a.bid, 1, 'spam spam');
        await t.app.ratings.flag((await freshUser('flagger')).actor, id, 'spam', null);
        return csrfPost(c, `/editors/flags/${id}`, { action: 'hide', comment: 'spam' });
      },
    },
    {
      method: 'POST',
      route: '/report/:bundle_id',
      allowed: [...ACTORS],
      run: async (c) => csrfPost(c, `/report/${(await activity('public')).bid}`, { reason: 'spam', message: 'bad' }),
    },
    {
      method: 'POST',
      route: '/admin/reports/:id/resolve',
      allowed: ['admin'],
      run: async (c) => {
        const a = await activity('public');
        const id = await t.app.ratings.report(null, a.bid, 'spam', 'bad', '127.0.0.9');
        return csrfPost(c, `/admin/reports/${id}/resolve`, { resolution: 'done' });
      },
    },

    // --- publishing from git (src/build) ------------------------------------------------------
    {
      method: 'PUT',
      route: '/api/v1/developer/activities/:bundle_id/source',
      allowed: ['author', 'admin'],
      run: async (c) =>
        t.app.inject({
          method: 'PUT',
          url: `/api/v1/developer/activities/${(await activity('sandbox')).bid}/source`,
          payload: { source_url: `https://git.example.org/mx/repo-${++n}.git` },
          headers: c.token ? { authorization: `Bearer ${c.token}` } : {},
        }),
    },
    {
      method: 'POST',
      route: '/api/v1/developer/activities/:bundle_id/source/check',
      allowed: ['author', 'admin'],
      run: async (c) => api(c, `/api/v1/developer/activities/${(await withSource()).bid}/source/check`, {}),
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/source',
      allowed: ['author', 'admin'],
      run: async (c) =>
        csrfPost(c, `/developers/activities/${(await activity('sandbox')).id}/source`, { source_url: `https://git.example.org/mx/repo-${++n}.git` }),
    },
    {
      method: 'POST',
      route: '/developers/activities/:id/source/check',
      allowed: ['author', 'admin'],
      run: async (c) => csrfPost(c, `/developers/activities/${(await withSource()).id}/source/check`, {}),
    },
    {
      method: 'POST',
      route: '/admin/activities/:id/legacy-id',
      allowed: ['admin'],
      run: async (c) => csrfPost(c, `/admin/activities/${(await activity('public')).id}/legacy-id`, { legacy_id: String(40000 + ++n), reason: 'matrix' }),
    },
    // Webhooks: the signature with the activity's hook secret is the credential, whoever sends it.
    ...(['github', 'gitlab', 'gitea'] as const).map(
      (forge): Case => ({
        method: 'POST',
        route: `/api/v1/hooks/${forge}`,
        allowed: [...ACTORS],
        run: async () => {
          const a = await withSource();
          const row = await t.ctx.db.selectFrom('activities').select(['source_url', 'source_hook_secret']).where('id', '=', a.id).executeTakeFirstOrThrow();
          const body = JSON.stringify({ zen: 'matrix', repository: { clone_url: row.source_url, url: row.source_url, git_http_url: row.source_url } });
          const sig = createHmac('sha256', row.source_hook_secret!).update(body).digest('hex');
          const headers: Record<string, string> =
            forge === 'github'
              ? { 'x-github-event': 'ping', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${sig}` }
              : forge === 'gitlab'
                ? { 'x-gitlab-event': 'System Hook', 'x-gitlab-event-uuid': randomUUID(), 'x-gitlab-token': row.source_hook_secret! }
                : { 'x-gitea-event': 'ping', 'x-gitea-delivery': randomUUID(), 'x-gitea-signature': sig };
          return t.app.inject({ method: 'POST', url: `/api/v1/hooks/${forge}`, payload: body, headers: { 'content-type': 'application/json', ...headers } });
        },
      }),
    ),

    // --- mirrors (src/web/mirrors/admin.ts) -----------------------------------------------------
    {
      method: 'POST',
      route: '/admin/mirrors',
      allowed: ['admin'],
      run: (c) =>
        csrfPost(c, '/admin/mirrors', {
          name: `mx${++n}.example`,
          http_url: 'http://127.0.0.1:9/sugar',
          country: 'DE',
          asn: '64500',
          latitude: '1',
          longitude: '1',
        }),
    },
    {
      method: 'POST',
      route: '/admin/mirrors/:id',
      allowed: ['admin'],
      run: async (c) => {
        const m = await mirror();
        return csrfPost(c, `/admin/mirrors/${m.id}`, { name: m.name, http_url: 'http://127.0.0.1:9/other', country: 'FR', weight: '5' });
      },
    },
    {
      method: 'POST',
      route: '/admin/mirrors/:id/enable',
      allowed: ['admin'],
      run: async (c) => csrfPost(c, `/admin/mirrors/${(await mirror(false)).id}/enable`, {}),
    },
    {
      method: 'POST',
      route: '/admin/mirrors/:id/disable',
      allowed: ['admin'],
      run: async (c) => csrfPost(c, `/admin/mirrors/${(await mirror()).id}/disable`, {}),
    },
    {
      method: 'POST',
      route: '/admin/mirrors/:id/remove',
      allowed: ['admin'],
      run: async (c) => {
        const m = await mirror();
        return csrfPost(c, `/admin/mirrors/${m.id}/remove`, { confirm: m.name });
      },
    },
  ];

  it('covers every state-changing route of the app', () => {
    const changing = new Set(t.app.routeTable.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method)).map((r) => `${r.method} ${r.url}`));
    const covered = new Set(cases.map((c) => `${c.method} ${c.route}`));
    assert.deepEqual([...changing].filter((r) => !covered.has(r)).sort(), [], 'routes missing from the matrix');
    assert.deepEqual([...covered].filter((r) => !changing.has(r)).sort(), [], 'matrix routes that do not exist');
  });

  it('allows exactly the expected actors on every route', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const allowedNow: ActorName[] = [];
      for (const name of ACTORS) {
        const cl = await client(name, Boolean(c.freshClient));
        const res = await c.run(cl);
        if (res.statusCode < 400) allowedNow.push(name);
        else if (![401, 403, 404].includes(res.statusCode)) failures.push(`${c.route} as ${name}: unexpected ${res.statusCode} ${res.body.slice(0, 300)}`);
      }
      const expected = [...c.allowed].sort().join(',');
      const got = [...allowedNow].sort().join(',');
      if (expected !== got) failures.push(`${c.route}: allowed [${got}], expected [${expected}]`);
    }
    assert.deepEqual(failures, []);
  });
});
