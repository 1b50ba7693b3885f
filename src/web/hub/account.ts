// Account pages: register, verify, log in and out, forgotten password, the account settings
// (e-mail, password, API tokens, deletion) and the administrators' user list.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AsloError, isAsloError } from '../../platform/errors.js';
import { isEditor, requireActor, requireAdmin } from '../../accounts/access.js';
import { clearSessionCookie, setSessionCookie, SESSION_COOKIE } from '../../accounts/plugin.js';
import { ROLES, SCOPES } from '../../accounts/service.js';
import { rememberDevice } from '../../accounts/devices.js';
import { MIN_PASSWORD_LENGTH } from '../../accounts/passwords.js';
import { html, input, page, perLocale, postForm, submit, table, when, type SafeHtml, type Translator } from './layout.js';
import { LOCALES, matchLocale } from '../i18n.js';
import { LOCALE_COOKIE } from '../context.js';
import { roleName, scopeName } from './words.js';
import { formBody, formQuery, textParams, type TypedApp } from '../../platform/schemas.js';
import { field, fieldList, idParam, loginOrRedirect, pageCtx, redirect, safeNext, sendPage, type PageCtx } from './common.js';

const T = perLocale((l) => ({
  register: l.t('Create an account'),
  registerIntro: l.t('An account lets you rate activities and publish your own.'),
  registered: l.t(
    'Thank you. We sent a mail to the address you gave: follow its link to confirm the address. (If an account with this address exists already, the mail says so.)',
  ),
  email: l.t('E-mail address'),
  displayName: l.t('Display name'),
  password: l.t('Password'),
  passwordHint: l.t('At least {count} characters.', { count: MIN_PASSWORD_LENGTH }),
  verify: l.t('Confirm your e-mail address'),
  verifyButton: l.t('Confirm my address'),
  verified: l.t('Your e-mail address is confirmed. Thank you!'),
  resend: l.t('Send the confirmation mail again'),
  resent: l.t('We sent a new confirmation mail.'),
  login: l.t('Log in'),
  forgotLink: l.t('Forgot your password?'),
  noAccount: l.t('No account yet?'),
  forgot: l.t('Forgotten password'),
  forgotIntro: l.t('Enter the e-mail address of your account: we will send a link to choose a new password.'),
  forgotSent: l.t('If an account uses this address, a mail with a link is on its way. The link works for an hour.'),
  reset: l.t('Choose a new password'),
  newPassword: l.t('New password'),
  resetDone: l.t('Your password is changed, every browser was logged out and your API tokens were revoked. Log in with the new password now.'),
  account: l.t('Your account'),
  role: l.t('Role'),
  unverified: l.t('Your e-mail address is not confirmed yet.'),
  changeEmail: l.t('Change e-mail address'),
  newEmail: l.t('New e-mail address'),
  currentPassword: l.t('Current password'),
  emailSent: l.t('We sent a link to the new address. The change is made when you open it.'),
  emailConfirm: l.t('Confirm your new e-mail address'),
  emailConfirmed: l.t('Your e-mail address is changed.'),
  changePassword: l.t('Change password'),
  passwordChanged: l.t('Your password is changed. Your other sessions were logged out and your API tokens revoked; a mail lists them.'),
  passwordChangedKept: l.t('Your password is changed. Your other sessions and your API tokens were kept.'),
  signOutEverywhere: l.t('Also log out every other browser and revoke all my API tokens'),
  tokens: l.t('API tokens'),
  tokensIntro: l.t('Tokens let the aslo command (aslo publish, with ASLO_TOKEN) and other programs act for you. A token is shown once, when it is created.'),
  tokenName: l.t('Name (where you use it)'),
  tokenScopes: l.t('Scopes'),
  tokenDays: l.t('Expires in (days)'),
  createToken: l.t('Create token'),
  tokenCreated: l.t('Your new token. Copy it now: it will not be shown again.'),
  revoke: l.t('Revoke'),
  tokenRevoked: l.t('The token is revoked.'),
  deleteAccount: l.t('Delete account'),
  deleteIntro: l.t(
    'This removes your name and e-mail address and logs you out everywhere. Activities you are the only author of stay in the store; an administrator can give them to someone else.',
  ),
  deleteButton: l.t('Delete my account'),
  deleted: l.t('Your account is deleted.'),
  users: l.t('Users'),
  search: l.t('Search'),
  setRole: l.t('Set role'),
  roleChanged: l.t('The role is changed.'),
  reason: l.t('Reason'),
  language: l.t('Language'),
  languageIntro: l.t(
    'The language of these pages and of the validation errors and warnings of your uploads (also with aslo publish). The language menu at the top changes it for this browser only.',
  ),
  languageBrowser: l.t("Your browser's choice"),
  languageSave: l.t('Save language'),
  languageSaved: l.t('Your language is saved.'),
}));

function notices(l: Translator): Record<string, string> {
  const t = T(l);
  return {
    registered: t.registered,
    verified: t.verified,
    resent: t.resent,
    'forgot-sent': t.forgotSent,
    'reset-done': t.resetDone,
    'email-sent': t.emailSent,
    'email-confirmed': t.emailConfirmed,
    'password-changed': t.passwordChanged,
    'password-changed-kept': t.passwordChangedKept,
    'token-revoked': t.tokenRevoked,
    deleted: t.deleted,
    'role-changed': t.roleChanged,
    'locale-saved': t.languageSaved,
  };
}

export function noticeOf(req: { query: { done?: unknown } }, l: Translator): string | null {
  const d = req.query.done;
  return typeof d === 'string' ? (notices(l)[d] ?? null) : null;
}

function meta(req: FastifyRequest) {
  return { address: req.ip, userAgent: req.headers['user-agent'] ?? null };
}

/**
 * The register and login forms' errors as sentences in the page's language (never a code): the
 * message of an error the form can cause, else the service's own sentence.
 */
function readableError(l: Translator, err: AsloError): string {
  switch (err.code) {
    case 'LOGIN_FAILED':
      return l.t('The e-mail address or the password is wrong. Check them and try again.');
    case 'PASSWORD_TOO_SHORT':
      return l.t('Choose a longer password: at least {count} characters.', { count: l.number(MIN_PASSWORD_LENGTH) });
    case 'PASSWORD_TOO_LONG':
      return l.t('This password is too long. Choose a shorter one.');
    case 'EMAIL_INVALID':
      return l.t('Enter a valid e-mail address, like name@example.org.');
    case 'EMAIL_TAKEN':
      return l.t('An account with this e-mail address exists already. Log in, or ask for a new password.');
    case 'DISPLAY_NAME_INVALID':
      return l.t('Enter a display name of 1 to 100 characters.');
    default:
      return err.message;
  }
}

/** A form's error above it, as a sentence. */
function formAlert(l: Translator, err: AsloError | null): SafeHtml | '' {
  return err ? html`<p role="alert" class="error"><strong>${readableError(l, err)}</strong></p>` : '';
}

/** Render a form page again with the error of a failed POST (user errors only). */
async function withFormError(
  req: FastifyRequest,
  reply: FastifyReply,
  action: () => Promise<unknown>,
  render: (c: PageCtx, error: AsloError) => Promise<string> | string,
): Promise<unknown> {
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

export async function accountPages(app: TypedApp): Promise<void> {
  const accounts = app.accounts;
  const csrf = app.csrfProtection;

  // --- register ---
  const registerPage = (c: PageCtx, err: AsloError | null, body: unknown = {}) =>
    page(
      { title: T(c.l).register, ...c, error: null },
      html`${formAlert(c.l, err)}<p>${T(c.l).registerIntro}</p>${postForm('/account/register', c.csrf, html`${input('email', T(c.l).email, { type: 'email', required: true, autocomplete: 'email', value: field(body, 'email') })}${input('display_name', T(c.l).displayName, { required: true, autocomplete: 'nickname', value: field(body, 'display_name') })}${input('password', T(c.l).password, { type: 'password', required: true, autocomplete: 'new-password', hint: T(c.l).passwordHint })}${submit(T(c.l).register)}`)}`,
    );
  app.get('/account/register', { schema: { hide: true } }, async (req, reply) => sendPage(reply, registerPage(await pageCtx(req, reply), null)));
  app.post(
    '/account/register',
    { preHandler: [csrf, ...app.limits.register], schema: { hide: true, body: formBody('email', 'display_name', 'password') } },
    async (req, reply) =>
      withFormError(
        req,
        reply,
        async () => {
          await accounts.register(
            { email: field(req.body, 'email'), displayName: field(req.body, 'display_name'), password: field(req.body, 'password') },
            meta(req),
          );
          return redirect(reply, '/account/login?done=registered');
        },
        (c, e) => registerPage(c, e, req.body),
      ),
  );

  // --- verify ---
  app.get('/account/verify', { schema: { hide: true, querystring: formQuery('token') } }, async (req, reply) => {
    const c = await pageCtx(req, reply);
    const token = String(req.query.token ?? '');
    return sendPage(
      reply,
      page(
        { title: T(c.l).verify, ...c },
        postForm('/account/verify', c.csrf, html`<input type="hidden" name="token" value="${token}">${submit(T(c.l).verifyButton)}`),
      ),
    );
  });
  app.post('/account/verify', { preHandler: csrf, schema: { hide: true, body: formBody('token') } }, async (req, reply) => {
    await accounts.verifyEmail(field(req.body, 'token'));
    return redirect(reply, (await req.viewer()) ? '/account?done=verified' : '/account/login?done=verified');
  });
  app.post('/account/verify/resend', { preHandler: [csrf, ...app.limits.reset], schema: { hide: true, body: formBody() } }, async (req, reply) => {
    await accounts.resendVerification(await req.viewer());
    return redirect(reply, '/account?done=resent');
  });

  // --- login / logout ---
  const loginPage = (c: PageCtx, err: AsloError | null, notice: string | null, next: string, email = '') =>
    page(
      { title: T(c.l).login, ...c, error: null, notice },
      html`${formAlert(c.l, err)}${postForm('/account/login', c.csrf, html`<input type="hidden" name="next" value="${next}">${input('email', T(c.l).email, { type: 'email', required: true, autocomplete: 'username', value: email })}${input('password', T(c.l).password, { type: 'password', required: true, autocomplete: 'current-password' })}${submit(T(c.l).login)}`)}<p><a href="/account/forgot">${T(c.l).forgotLink}</a> · ${T(c.l).noAccount} <a href="/account/register">${T(c.l).register}</a></p>`,
    );
  app.get('/account/login', { schema: { hide: true, querystring: formQuery('next', 'done') } }, async (req, reply) => {
    const c = await pageCtx(req, reply);
    return sendPage(reply, loginPage(c, null, noticeOf(req, c.l), req.query.next ? safeNext(req.query.next) : ''));
  });
  app.post(
    '/account/login',
    { preHandler: [csrf, ...app.limits.login], schema: { hide: true, body: formBody('email', 'password', 'next') } },
    async (req, reply) =>
      withFormError(
        req,
        reply,
        async () => {
          let session: Awaited<ReturnType<typeof accounts.login>>;
          try {
            session = await accounts.login(field(req.body, 'email'), field(req.body, 'password'), meta(req));
          } catch (err) {
            // Only failures count against the login limits (src/accounts/plugin.ts).
            if (isAsloError(err) && err.code === 'LOGIN_FAILED') {
              await app.loginFailed(req);
              // The form again, with the sentence and the address kept.
              const c = await pageCtx(req, reply);
              return sendPage(reply, await loginPage(c, err, null, safeNext(field(req.body, 'next')), field(req.body, 'email')), 401);
            }
            throw err;
          }
          const { token, expiresAt, user } = session;
          const old = req.cookies[SESSION_COOKIE];
          if (old) await accounts.logout(old);
          setSessionCookie(app, reply, token, expiresAt);
          // This browser may log in to this account even while guesses from elsewhere lock it.
          rememberDevice(app, req, reply, user.id);
          // Where the page asked to come back to; else editors land on their queue, others on the hub.
          const next = field(req.body, 'next');
          return redirect(reply, next ? safeNext(next) : user.role === 'editor' || user.role === 'admin' ? '/editors/queue' : '/developers');
        },
        (c, e) => loginPage(c, e, null, field(req.body, 'next') ? safeNext(field(req.body, 'next')) : '', field(req.body, 'email')),
      ),
  );
  // The account menu of pages without a form token (the store's) links here: one button.
  app.get('/account/logout', { schema: { hide: true } }, async (req, reply) => {
    const c = await pageCtx(req, reply);
    if (!c.viewer) return redirect(reply, '/');
    return sendPage(reply, page({ title: c.l.t('Log out'), ...c }, postForm('/account/logout', c.csrf, submit(c.l.t('Log out')), { label: c.l.t('Log out') })));
  });
  app.post('/account/logout', { preHandler: csrf, schema: { hide: true, body: formBody() } }, async (req, reply) => {
    await accounts.logout(req.cookies[SESSION_COOKIE]);
    clearSessionCookie(app, reply);
    return redirect(reply, '/');
  });

  // --- forgotten password ---
  const forgotPage = (c: PageCtx, err: AsloError | null, notice: string | null = null) =>
    page(
      { title: T(c.l).forgot, ...c, error: err, notice },
      html`<p>${T(c.l).forgotIntro}</p>${postForm('/account/forgot', c.csrf, html`${input('email', T(c.l).email, { type: 'email', required: true, autocomplete: 'email' })}${submit(T(c.l).forgot)}`)}`,
    );
  app.get('/account/forgot', { schema: { hide: true, querystring: formQuery('done') } }, async (req, reply) => {
    const c = await pageCtx(req, reply);
    return sendPage(reply, forgotPage(c, null, noticeOf(req, c.l)));
  });
  app.post('/account/forgot', { preHandler: [csrf, ...app.limits.reset], schema: { hide: true, body: formBody('email') } }, async (req, reply) =>
    withFormError(
      req,
      reply,
      async () => {
        await accounts.requestPasswordReset(field(req.body, 'email'), meta(req));
        return redirect(reply, '/account/forgot?done=forgot-sent');
      },
      (c, e) => forgotPage(c, e),
    ),
  );
  const resetPage = (c: PageCtx, err: AsloError | null, token: string) =>
    page(
      { title: T(c.l).reset, ...c, error: err },
      postForm(
        '/account/reset',
        c.csrf,
        html`<input type="hidden" name="token" value="${token}">${input('password', T(c.l).newPassword, { type: 'password', required: true, autocomplete: 'new-password', hint: T(c.l).passwordHint })}${submit(T(c.l).reset)}`,
      ),
    );
  app.get('/account/reset', { schema: { hide: true, querystring: formQuery('token') } }, async (req, reply) => {
    const token = String(req.query.token ?? '');
    await accounts.checkResetToken(token);
    return sendPage(reply, resetPage(await pageCtx(req, reply), null, token));
  });
  app.post('/account/reset', { preHandler: [csrf, ...app.limits.reset], schema: { hide: true, body: formBody('token', 'password') } }, async (req, reply) =>
    withFormError(
      req,
      reply,
      async () => {
        await accounts.resetPassword(field(req.body, 'token'), field(req.body, 'password'), meta(req));
        return redirect(reply, '/account/login?done=reset-done');
      },
      (c, e) => resetPage(c, e, field(req.body, 'token')),
    ),
  );

  // --- account settings ---
  const accountPage = async (c: PageCtx, err: AsloError | null, notice: string | null, newToken: string | null = null) => {
    const actor = requireActor(c.viewer);
    const tokens = await accounts.listApiTokens(actor);
    const now = Date.now();
    const tokenRows = tokens.map((t) => [
      t.name,
      html`<code>${t.token_prefix}…</code>`,
      t.scopes.map((x) => scopeName(c.l, x)).join(', '),
      when(t.created_at),
      when(t.expires_at),
      when(t.last_used_at),
      t.revoked_at
        ? c.l.t('revoked: {reason}', { reason: t.revoked_reason ?? '' })
        : t.expires_at.getTime() < now
          ? c.l.t('expired')
          : postForm(`/account/tokens/${t.id}/revoke`, c.csrf, html`<button type="submit">${T(c.l).revoke}</button>`),
    ]);
    const body: SafeHtml = html`
<dl><dt>${T(c.l).email}</dt><dd>${actor.email}</dd><dt>${T(c.l).displayName}</dt><dd>${actor.displayName}</dd><dt>${T(c.l).role}</dt><dd>${roleName(c.l, actor.role)}</dd></dl>
${actor.emailVerified ? '' : html`<p>${T(c.l).unverified}</p>${postForm('/account/verify/resend', c.csrf, submit(T(c.l).resend))}`}
<section aria-labelledby="language"><h2 id="language">${T(c.l).language}</h2><p>${T(c.l).languageIntro}</p>${postForm('/account/locale', c.csrf, html`<p><label for="f-locale">${T(c.l).language}</label><br><select id="f-locale" name="locale"><option value=""${actor.locale ? '' : html` selected`}>${T(c.l).languageBrowser}</option>${LOCALES.map((l) => html`<option value="${l.tag}" lang="${l.tag}"${actor.locale === l.tag ? html` selected` : ''}>${l.name}</option>`)}</select></p>${submit(T(c.l).languageSave)}`)}</section>
${newToken ? html`<section aria-labelledby="new-token"><h2 id="new-token">${T(c.l).tokenCreated}</h2><p><output><code>${newToken}</code></output></p></section>` : ''}
<section aria-labelledby="tokens"><h2 id="tokens">${T(c.l).tokens}</h2><p>${T(c.l).tokensIntro}</p>
${tokens.length ? table([c.l.t('Name'), c.l.t('Token'), T(c.l).tokenScopes, c.l.t('Created'), c.l.t('Expires'), c.l.t('Last used'), ''], tokenRows) : ''}
${postForm('/account/tokens', c.csrf, html`${input('name', T(c.l).tokenName, { required: true })}<fieldset><legend>${T(c.l).tokenScopes}</legend>${SCOPES.filter((s) => s !== 'review' || isEditor(actor)).map((s) => html`<label><input type="checkbox" name="scopes" value="${s}"${s === 'publish' ? html` checked` : ''}> ${scopeName(c.l, s)}</label> `)}</fieldset>${input('expires_in_days', T(c.l).tokenDays, { type: 'number', value: '90', extra: `min="1" max="${app.ctx.config.accounts.tokenMaxDays}"` })}${submit(T(c.l).createToken)}`, { label: T(c.l).createToken })}
</section>
<section aria-labelledby="email"><h2 id="email">${T(c.l).changeEmail}</h2>${postForm('/account/email', c.csrf, html`${input('email', T(c.l).newEmail, { type: 'email', required: true, autocomplete: 'email' })}${input('current_password', T(c.l).currentPassword, { type: 'password', required: true, autocomplete: 'current-password' })}${submit(T(c.l).changeEmail)}`)}</section>
<section aria-labelledby="password"><h2 id="password">${T(c.l).changePassword}</h2>${postForm('/account/password', c.csrf, html`${input('current_password', T(c.l).currentPassword, { type: 'password', required: true, autocomplete: 'current-password' })}${input('password', T(c.l).newPassword, { type: 'password', required: true, autocomplete: 'new-password', hint: T(c.l).passwordHint })}<input type="hidden" name="sign_out_choice" value="1"><p><label><input type="checkbox" name="sign_out_everywhere" value="1" checked> ${T(c.l).signOutEverywhere}</label></p>${submit(T(c.l).changePassword)}`)}</section>
<section aria-labelledby="delete"><h2 id="delete">${T(c.l).deleteAccount}</h2><p>${T(c.l).deleteIntro}</p>${postForm('/account/delete', c.csrf, html`${input('current_password', T(c.l).currentPassword, { type: 'password', required: true, autocomplete: 'current-password' })}${submit(T(c.l).deleteButton)}`)}</section>`;
    return page({ title: T(c.l).account, ...c, error: err, notice }, body);
  };
  app.get('/account', { schema: { hide: true, querystring: formQuery('done') } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    return sendPage(reply, await accountPage(c, null, noticeOf(req, c.l)));
  });
  app.post('/account/email', { preHandler: csrf, schema: { hide: true, body: formBody('current_password', 'email') } }, async (req, reply) =>
    withFormError(
      req,
      reply,
      async () => {
        await accounts.requestEmailChange(await req.viewer(), field(req.body, 'current_password'), field(req.body, 'email'));
        return redirect(reply, '/account?done=email-sent');
      },
      (c, e) => accountPage(c, e, null),
    ),
  );
  app.get('/account/email/confirm', { schema: { hide: true, querystring: formQuery('token') } }, async (req, reply) => {
    const c = await pageCtx(req, reply);
    const token = String(req.query.token ?? '');
    return sendPage(
      reply,
      page(
        { title: T(c.l).emailConfirm, ...c },
        postForm('/account/email/confirm', c.csrf, html`<input type="hidden" name="token" value="${token}">${submit(T(c.l).emailConfirm)}`),
      ),
    );
  });
  app.post('/account/email/confirm', { preHandler: csrf, schema: { hide: true, body: formBody('token') } }, async (req, reply) => {
    await accounts.confirmEmailChange(field(req.body, 'token'));
    return redirect(reply, (await req.viewer()) ? '/account?done=email-confirmed' : '/account/login?done=email-confirmed');
  });
  app.post('/account/locale', { preHandler: csrf, schema: { hide: true, body: formBody('locale') } }, async (req, reply) =>
    withFormError(
      req,
      reply,
      async () => {
        const locale = await accounts.setLocale(await req.viewer(), field(req.body, 'locale'));
        // The pages follow at once in this browser, even after an earlier choice in the language menu.
        const chosen = matchLocale(locale);
        if (chosen) void reply.setCookie(LOCALE_COOKIE, chosen, { path: '/', maxAge: 365 * 24 * 3600, sameSite: 'lax', httpOnly: true });
        else void reply.clearCookie(LOCALE_COOKIE, { path: '/' });
        return redirect(reply, '/account?done=locale-saved');
      },
      (c, e) => accountPage(c, e, null),
    ),
  );
  app.post(
    '/account/password',
    { preHandler: csrf, schema: { hide: true, body: formBody('sign_out_choice', 'sign_out_everywhere', 'current_password', 'password') } },
    async (req, reply) =>
      withFormError(
        req,
        reply,
        async () => {
          // An unchecked box sends nothing: the hidden sign_out_choice tells "unchecked" from a
          // client that never showed the choice (which gets the safe default, sign out everywhere).
          const everywhere = field(req.body, 'sign_out_choice') ? field(req.body, 'sign_out_everywhere') === '1' : true;
          await accounts.changePassword(await req.viewer(), field(req.body, 'current_password'), field(req.body, 'password'), {
            signOutEverywhere: everywhere,
          });
          return redirect(reply, everywhere ? '/account?done=password-changed' : '/account?done=password-changed-kept');
        },
        (c, e) => accountPage(c, e, null),
      ),
  );
  app.post('/account/delete', { preHandler: csrf, schema: { hide: true, body: formBody('current_password') } }, async (req, reply) =>
    withFormError(
      req,
      reply,
      async () => {
        await accounts.deleteAccount(await req.viewer(), field(req.body, 'current_password'));
        clearSessionCookie(app, reply);
        return redirect(reply, '/account/login?done=deleted');
      },
      (c, e) => accountPage(c, e, null),
    ),
  );
  app.post('/account/tokens', { preHandler: csrf, schema: { hide: true, body: formBody('name', 'scopes', 'expires_in_days') } }, async (req, reply) =>
    withFormError(
      req,
      reply,
      async () => {
        const created = await accounts.createApiToken(await req.viewer(), {
          name: field(req.body, 'name'),
          scopes: fieldList(req.body, 'scopes'),
          expiresInDays: field(req.body, 'expires_in_days') || undefined,
        });
        // Shown once, on this response; never stored in clear.
        return sendPage(reply, await accountPage(await pageCtx(req, reply), null, null, created.token), 201);
      },
      (c, e) => accountPage(c, e, null),
    ),
  );
  app.post('/account/tokens/:id/revoke', { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody() } }, async (req, reply) => {
    await accounts.revokeApiToken(await req.viewer(), idParam(req));
    return redirect(reply, '/account?done=token-revoked');
  });

  // --- administrators: users and roles ---
  app.get('/admin/users', { schema: { hide: true, querystring: formQuery('q', 'done') } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    requireAdmin(c.viewer);
    const search = String(req.query.q ?? '');
    const users = await accounts.listUsers(c.viewer, { search });
    const rows = users.map((u) => [
      u.id,
      u.email,
      u.display_name,
      u.email_verified_at ? c.l.t('yes') : c.l.t('no'),
      postForm(
        `/admin/users/${u.id}/role`,
        c.csrf,
        html`<label>${T(c.l).role} <select name="role">${ROLES.map((r) => html`<option value="${r}"${r === u.role ? html` selected` : ''}>${roleName(c.l, r)}</option>`)}</select></label> <label>${T(c.l).reason} <input name="reason"></label> <button type="submit">${T(c.l).setRole}</button>`,
      ),
    ]);
    const body = html`<form method="get" action="/admin/users"><label>${T(c.l).search} <input name="q" value="${search}"></label> <button type="submit">${T(c.l).search}</button></form>${table(['#', T(c.l).email, T(c.l).displayName, c.l.t('Verified'), T(c.l).role], rows)}`;
    return sendPage(reply, page({ title: T(c.l).users, ...c, notice: noticeOf(req, c.l) }, body));
  });
  app.post(
    '/admin/users/:id/role',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('role', 'reason') } },
    async (req, reply) => {
      await accounts.setRole(await req.viewer(), idParam(req), field(req.body, 'role'), field(req.body, 'reason') || null);
      return redirect(reply, '/admin/users?done=role-changed');
    },
  );
}
