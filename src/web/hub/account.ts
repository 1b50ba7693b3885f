// Account pages: register, verify, log in and out, forgotten password, the account settings
// (e-mail, password, API tokens, deletion) and the administrators' user list.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AsloError, isAsloError } from '../../platform/errors.js';
import { requireActor, requireAdmin } from '../../accounts/access.js';
import { clearSessionCookie, setSessionCookie, SESSION_COOKIE } from '../../accounts/plugin.js';
import { ROLES, SCOPES } from '../../accounts/service.js';
import { MIN_PASSWORD_LENGTH } from '../../accounts/passwords.js';
import { html, input, page, postForm, submit, table, when, type SafeHtml } from './layout.js';
import { LOCALES } from '../i18n.js';
import { field, fieldList, loginOrRedirect, pageCtx, redirect, safeNext, sendPage, type PageCtx } from './common.js';

const T = {
  register: 'Create an account',
  registerIntro: 'An account lets you rate activities and publish your own.',
  registered: 'Thank you. We sent a mail to the address you gave: follow its link to confirm the address. (If an account with this address exists already, the mail says so.)',
  email: 'E-mail address',
  displayName: 'Display name',
  password: 'Password',
  passwordHint: `At least ${MIN_PASSWORD_LENGTH} characters.`,
  verify: 'Confirm your e-mail address',
  verifyButton: 'Confirm my address',
  verified: 'Your e-mail address is confirmed. Thank you!',
  resend: 'Send the confirmation mail again',
  resent: 'We sent a new confirmation mail.',
  login: 'Log in',
  forgotLink: 'Forgot your password?',
  noAccount: 'No account yet?',
  forgot: 'Forgotten password',
  forgotIntro: 'Enter the e-mail address of your account: we will send a link to choose a new password.',
  forgotSent: 'If an account uses this address, a mail with a link is on its way. The link works for an hour.',
  reset: 'Choose a new password',
  newPassword: 'New password',
  resetDone: 'Your password is changed. Log in with it now.',
  account: 'Your account',
  role: 'Role',
  unverified: 'Your e-mail address is not confirmed yet.',
  changeEmail: 'Change e-mail address',
  newEmail: 'New e-mail address',
  currentPassword: 'Current password',
  emailSent: 'We sent a link to the new address. The change is made when you open it.',
  emailConfirm: 'Confirm your new e-mail address',
  emailConfirmed: 'Your e-mail address is changed.',
  changePassword: 'Change password',
  passwordChanged: 'Your password is changed. Your other sessions were logged out.',
  tokens: 'API tokens',
  tokensIntro: 'Tokens let the aslo command (aslo publish, with ASLO_TOKEN) and other programs act for you. A token is shown once, when it is created.',
  tokenName: 'Name (where you use it)',
  tokenScopes: 'Scopes',
  tokenDays: 'Expires in (days)',
  createToken: 'Create token',
  tokenCreated: 'Your new token. Copy it now: it will not be shown again.',
  revoke: 'Revoke',
  tokenRevoked: 'The token is revoked.',
  deleteAccount: 'Delete account',
  deleteIntro: 'This removes your name and e-mail address and logs you out everywhere. Activities you are the only author of stay in the store; an administrator can give them to someone else.',
  deleteButton: 'Delete my account',
  deleted: 'Your account is deleted.',
  users: 'Users',
  search: 'Search',
  setRole: 'Set role',
  roleChanged: 'The role is changed.',
  reason: 'Reason',
  language: 'Language',
  languageIntro: 'Validation errors and warnings of your uploads are shown in this language where they are translated (also with aslo publish).',
  languageBrowser: "Your browser's choice",
  languageSave: 'Save language',
  languageSaved: 'Your language is saved.',
};

const NOTICES: Record<string, string> = {
  registered: T.registered,
  verified: T.verified,
  resent: T.resent,
  'forgot-sent': T.forgotSent,
  'reset-done': T.resetDone,
  'email-sent': T.emailSent,
  'email-confirmed': T.emailConfirmed,
  'password-changed': T.passwordChanged,
  'token-revoked': T.tokenRevoked,
  deleted: T.deleted,
  'role-changed': T.roleChanged,
  'locale-saved': T.languageSaved,
};

export function noticeOf(req: FastifyRequest): string | null {
  const d = (req.query as Record<string, unknown>)?.done;
  return typeof d === 'string' ? NOTICES[d] ?? null : null;
}

function meta(req: FastifyRequest) {
  return { address: req.ip, userAgent: req.headers['user-agent'] ?? null };
}

/** Render a form page again with the error of a failed POST (user errors only). */
async function withFormError(req: FastifyRequest, reply: FastifyReply, action: () => Promise<unknown>, render: (c: PageCtx, error: AsloError) => Promise<string> | string): Promise<unknown> {
  try {
    return await action();
  } catch (err) {
    if (isAsloError(err) && err.statusCode < 500 && err.statusCode !== 401 && err.code !== 'RATE_LIMITED') {
      const c = await pageCtx(req, reply);
      return sendPage(reply, await render(c, err), err.statusCode);
    }
    throw err;
  }
}

export async function accountPages(app: FastifyInstance): Promise<void> {
  const accounts = app.accounts;
  const csrf = app.csrfProtection;

  // --- register ---
  const registerPage = (c: PageCtx, err: AsloError | null, body: unknown = {}) =>
    page(
      { title: T.register, viewer: c.viewer, csrf: c.csrf, error: err },
      html`<p>${T.registerIntro}</p>${postForm('/account/register', c.csrf, html`${input('email', T.email, { type: 'email', required: true, autocomplete: 'email', value: field(body, 'email') })}${input('display_name', T.displayName, { required: true, autocomplete: 'nickname', value: field(body, 'display_name') })}${input('password', T.password, { type: 'password', required: true, autocomplete: 'new-password', hint: T.passwordHint })}${submit(T.register)}`)}`,
    );
  app.get('/account/register', async (req, reply) => sendPage(reply, registerPage(await pageCtx(req, reply), null)));
  app.post('/account/register', { preHandler: [csrf, ...app.limits.register] }, async (req, reply) =>
    withFormError(req, reply, async () => {
      await accounts.register({ email: field(req.body, 'email'), displayName: field(req.body, 'display_name'), password: field(req.body, 'password') }, meta(req));
      return redirect(reply, '/account/login?done=registered');
    }, (c, e) => registerPage(c, e, req.body)),
  );

  // --- verify ---
  app.get('/account/verify', async (req, reply) => {
    const c = await pageCtx(req, reply);
    const token = String((req.query as Record<string, unknown>).token ?? '');
    return sendPage(reply, page({ title: T.verify, viewer: c.viewer, csrf: c.csrf }, postForm('/account/verify', c.csrf, html`<input type="hidden" name="token" value="${token}">${submit(T.verifyButton)}`)));
  });
  app.post('/account/verify', { preHandler: csrf }, async (req, reply) => {
    await accounts.verifyEmail(field(req.body, 'token'));
    return redirect(reply, (await req.viewer()) ? '/account?done=verified' : '/account/login?done=verified');
  });
  app.post('/account/verify/resend', { preHandler: [csrf, ...app.limits.reset] }, async (req, reply) => {
    await accounts.resendVerification(await req.viewer());
    return redirect(reply, '/account?done=resent');
  });

  // --- login / logout ---
  const loginPage = (c: PageCtx, err: AsloError | null, notice: string | null, next: string, email = '') =>
    page(
      { title: T.login, viewer: c.viewer, csrf: c.csrf, error: err, notice },
      html`${postForm('/account/login', c.csrf, html`<input type="hidden" name="next" value="${next}">${input('email', T.email, { type: 'email', required: true, autocomplete: 'username', value: email })}${input('password', T.password, { type: 'password', required: true, autocomplete: 'current-password' })}${submit(T.login)}`)}<p><a href="/account/forgot">${T.forgotLink}</a> · ${T.noAccount} <a href="/account/register">${T.register}</a></p>`,
    );
  app.get('/account/login', async (req, reply) => {
    const c = await pageCtx(req, reply);
    return sendPage(reply, loginPage(c, null, noticeOf(req), safeNext((req.query as Record<string, unknown>).next)));
  });
  app.post('/account/login', { preHandler: [csrf, ...app.limits.login] }, async (req, reply) =>
    withFormError(req, reply, async () => {
      const { token, expiresAt } = await accounts.login(field(req.body, 'email'), field(req.body, 'password'), meta(req));
      const old = req.cookies[SESSION_COOKIE];
      if (old) await accounts.logout(old);
      setSessionCookie(app, reply, token, expiresAt);
      return redirect(reply, safeNext(field(req.body, 'next')));
    }, (c, e) => loginPage(c, e, null, safeNext(field(req.body, 'next')), field(req.body, 'email'))),
  );
  app.post('/account/logout', { preHandler: csrf }, async (req, reply) => {
    await accounts.logout(req.cookies[SESSION_COOKIE]);
    clearSessionCookie(app, reply);
    return redirect(reply, '/');
  });

  // --- forgotten password ---
  const forgotPage = (c: PageCtx, err: AsloError | null, notice: string | null = null) =>
    page({ title: T.forgot, viewer: c.viewer, csrf: c.csrf, error: err, notice }, html`<p>${T.forgotIntro}</p>${postForm('/account/forgot', c.csrf, html`${input('email', T.email, { type: 'email', required: true, autocomplete: 'email' })}${submit(T.forgot)}`)}`);
  app.get('/account/forgot', async (req, reply) => sendPage(reply, forgotPage(await pageCtx(req, reply), null, noticeOf(req))));
  app.post('/account/forgot', { preHandler: [csrf, ...app.limits.reset] }, async (req, reply) =>
    withFormError(req, reply, async () => {
      await accounts.requestPasswordReset(field(req.body, 'email'));
      return redirect(reply, '/account/forgot?done=forgot-sent');
    }, (c, e) => forgotPage(c, e)),
  );
  const resetPage = (c: PageCtx, err: AsloError | null, token: string) =>
    page({ title: T.reset, viewer: c.viewer, csrf: c.csrf, error: err }, postForm('/account/reset', c.csrf, html`<input type="hidden" name="token" value="${token}">${input('password', T.newPassword, { type: 'password', required: true, autocomplete: 'new-password', hint: T.passwordHint })}${submit(T.reset)}`));
  app.get('/account/reset', async (req, reply) => {
    const token = String((req.query as Record<string, unknown>).token ?? '');
    await accounts.checkResetToken(token);
    return sendPage(reply, resetPage(await pageCtx(req, reply), null, token));
  });
  app.post('/account/reset', { preHandler: [csrf, ...app.limits.reset] }, async (req, reply) =>
    withFormError(req, reply, async () => {
      await accounts.resetPassword(field(req.body, 'token'), field(req.body, 'password'), meta(req));
      return redirect(reply, '/account/login?done=reset-done');
    }, (c, e) => resetPage(c, e, field(req.body, 'token'))),
  );

  // --- account settings ---
  const accountPage = async (c: PageCtx, err: AsloError | null, notice: string | null, newToken: string | null = null) => {
    const actor = requireActor(c.viewer);
    const tokens = await accounts.listApiTokens(actor);
    const now = Date.now();
    const tokenRows = tokens.map((t) => [
      t.name,
      html`<code>${t.token_prefix}…</code>`,
      t.scopes.join(', '),
      when(t.created_at),
      when(t.expires_at),
      when(t.last_used_at),
      t.revoked_at ? `revoked: ${t.revoked_reason ?? ''}` : t.expires_at.getTime() < now ? 'expired' : postForm(`/account/tokens/${t.id}/revoke`, c.csrf, html`<button type="submit">${T.revoke}</button>`),
    ]);
    const body: SafeHtml = html`
<dl><dt>${T.email}</dt><dd>${actor.email}</dd><dt>${T.displayName}</dt><dd>${actor.displayName}</dd><dt>${T.role}</dt><dd>${actor.role}</dd></dl>
${actor.emailVerified ? '' : html`<p>${T.unverified}</p>${postForm('/account/verify/resend', c.csrf, submit(T.resend))}`}
<section aria-labelledby="language"><h2 id="language">${T.language}</h2><p>${T.languageIntro}</p>${postForm('/account/locale', c.csrf, html`<p><label for="f-locale">${T.language}</label><br><select id="f-locale" name="locale"><option value=""${actor.locale ? '' : html` selected`}>${T.languageBrowser}</option>${LOCALES.map((l) => html`<option value="${l.tag}" lang="${l.tag}"${actor.locale === l.tag ? html` selected` : ''}>${l.name}</option>`)}</select></p>${submit(T.languageSave)}`)}</section>
${newToken ? html`<section aria-labelledby="new-token"><h2 id="new-token">${T.tokenCreated}</h2><p><output><code>${newToken}</code></output></p></section>` : ''}
<section aria-labelledby="tokens"><h2 id="tokens">${T.tokens}</h2><p>${T.tokensIntro}</p>
${tokens.length ? table(['Name', 'Token', 'Scopes', 'Created', 'Expires', 'Last used', ''], tokenRows) : ''}
${postForm('/account/tokens', c.csrf, html`${input('name', T.tokenName, { required: true })}<fieldset><legend>${T.tokenScopes}</legend>${SCOPES.map((s) => html`<label><input type="checkbox" name="scopes" value="${s}"${s === 'publish' ? html` checked` : ''}> ${s}</label> `)}</fieldset>${input('expires_in_days', T.tokenDays, { type: 'number', value: '90', extra: `min="1" max="${app.ctx.config.accounts.tokenMaxDays}"` })}${submit(T.createToken)}`, { label: T.createToken })}
</section>
<section aria-labelledby="email"><h2 id="email">${T.changeEmail}</h2>${postForm('/account/email', c.csrf, html`${input('email', T.newEmail, { type: 'email', required: true, autocomplete: 'email' })}${input('current_password', T.currentPassword, { type: 'password', required: true, autocomplete: 'current-password' })}${submit(T.changeEmail)}`)}</section>
<section aria-labelledby="password"><h2 id="password">${T.changePassword}</h2>${postForm('/account/password', c.csrf, html`${input('current_password', T.currentPassword, { type: 'password', required: true, autocomplete: 'current-password' })}${input('password', T.newPassword, { type: 'password', required: true, autocomplete: 'new-password', hint: T.passwordHint })}${submit(T.changePassword)}`)}</section>
<section aria-labelledby="delete"><h2 id="delete">${T.deleteAccount}</h2><p>${T.deleteIntro}</p>${postForm('/account/delete', c.csrf, html`${input('current_password', T.currentPassword, { type: 'password', required: true, autocomplete: 'current-password' })}${submit(T.deleteButton)}`)}</section>`;
    return page({ title: T.account, viewer: c.viewer, csrf: c.csrf, error: err, notice }, body);
  };
  app.get('/account', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    return sendPage(reply, await accountPage(await pageCtx(req, reply), null, noticeOf(req)));
  });
  app.post('/account/email', { preHandler: csrf }, async (req, reply) =>
    withFormError(req, reply, async () => {
      await accounts.requestEmailChange(await req.viewer(), field(req.body, 'current_password'), field(req.body, 'email'));
      return redirect(reply, '/account?done=email-sent');
    }, (c, e) => accountPage(c, e, null)),
  );
  app.get('/account/email/confirm', async (req, reply) => {
    const c = await pageCtx(req, reply);
    const token = String((req.query as Record<string, unknown>).token ?? '');
    return sendPage(reply, page({ title: T.emailConfirm, viewer: c.viewer, csrf: c.csrf }, postForm('/account/email/confirm', c.csrf, html`<input type="hidden" name="token" value="${token}">${submit(T.emailConfirm)}`)));
  });
  app.post('/account/email/confirm', { preHandler: csrf }, async (req, reply) => {
    await accounts.confirmEmailChange(field(req.body, 'token'));
    return redirect(reply, (await req.viewer()) ? '/account?done=email-confirmed' : '/account/login?done=email-confirmed');
  });
  app.post('/account/locale', { preHandler: csrf }, async (req, reply) =>
    withFormError(req, reply, async () => {
      await accounts.setLocale(await req.viewer(), field(req.body, 'locale'));
      return redirect(reply, '/account?done=locale-saved');
    }, (c, e) => accountPage(c, e, null)),
  );
  app.post('/account/password', { preHandler: csrf }, async (req, reply) =>
    withFormError(req, reply, async () => {
      await accounts.changePassword(await req.viewer(), field(req.body, 'current_password'), field(req.body, 'password'));
      return redirect(reply, '/account?done=password-changed');
    }, (c, e) => accountPage(c, e, null)),
  );
  app.post('/account/delete', { preHandler: csrf }, async (req, reply) =>
    withFormError(req, reply, async () => {
      await accounts.deleteAccount(await req.viewer(), field(req.body, 'current_password'));
      clearSessionCookie(app, reply);
      return redirect(reply, '/account/login?done=deleted');
    }, (c, e) => accountPage(c, e, null)),
  );
  app.post('/account/tokens', { preHandler: csrf }, async (req, reply) =>
    withFormError(req, reply, async () => {
      const created = await accounts.createApiToken(await req.viewer(), { name: field(req.body, 'name'), scopes: fieldList(req.body, 'scopes'), expiresInDays: field(req.body, 'expires_in_days') || undefined });
      // Shown once, on this response; never stored in clear.
      return sendPage(reply, await accountPage(await pageCtx(req, reply), null, null, created.token), 201);
    }, (c, e) => accountPage(c, e, null)),
  );
  app.post('/account/tokens/:id/revoke', { preHandler: csrf }, async (req, reply) => {
    await accounts.revokeApiToken(await req.viewer(), Number((req.params as { id: string }).id) || 0);
    return redirect(reply, '/account?done=token-revoked');
  });

  // --- administrators: users and roles ---
  app.get('/admin/users', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    requireAdmin(c.viewer);
    const search = String((req.query as Record<string, unknown>).q ?? '');
    const users = await accounts.listUsers(c.viewer, { search });
    const rows = users.map((u) => [
      u.id,
      u.email,
      u.display_name,
      u.email_verified_at ? 'yes' : 'no',
      postForm(`/admin/users/${u.id}/role`, c.csrf, html`<label>${T.role} <select name="role">${ROLES.map((r) => html`<option${r === u.role ? html` selected` : ''}>${r}</option>`)}</select></label> <label>${T.reason} <input name="reason"></label> <button type="submit">${T.setRole}</button>`),
    ]);
    const body = html`<form method="get" action="/admin/users"><label>${T.search} <input name="q" value="${search}"></label> <button type="submit">${T.search}</button></form>${table(['#', T.email, T.displayName, 'Verified', T.role], rows)}`;
    return sendPage(reply, page({ title: T.users, viewer: c.viewer, csrf: c.csrf, notice: noticeOf(req) }, body));
  });
  app.post('/admin/users/:id/role', { preHandler: csrf }, async (req, reply) => {
    await accounts.setRole(await req.viewer(), Number((req.params as { id: string }).id) || 0, field(req.body, 'role'), field(req.body, 'reason') || null);
    return redirect(reply, '/admin/users?done=role-changed');
  });
}
