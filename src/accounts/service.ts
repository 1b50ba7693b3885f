// Accounts: registration with e-mail verification, login (with the legacy-hash upgrade),
// password reset, e-mail and password changes, deletion, roles, and personal API tokens.
// Every public method starts with its access check. Messages about e-mail addresses are the
// same whether or not an account exists, so nobody can probe who is registered.
import type { AppContext } from '../platform/context.js';
import type { Db } from '../platform/db/index.js';
import type { EmailTokenPurpose, Role, TokenScope, User } from '../platform/db/schema.js';
import { ignoreReadOnly } from '../platform/db/replicas.js';
import { AsloError } from '../platform/errors.js';
import type { Mailer } from '../mail/mailer.js';
import { audit } from '../platform/audit/index.js';
import { requireActor, requireAdmin, type Actor, type Viewer } from './access.js';
import { burnVerification, checkPasswordRules, hashPassword, verifyPassword } from './passwords.js';
import { newApiToken, randomToken, sha256Hex } from './secrets.js';
import type { SessionMeta, SessionStore } from './sessions.js';
import * as text from '../mail/texts.js';
import { hasBidiOverride } from '../platform/text.js';
import * as q from './queries.js';

export const ROLES: Role[] = ['user', 'editor', 'admin'];
export const SCOPES: TokenScope[] = ['publish', 'read', 'review'];

const VERIFY_TTL_MS = 7 * 24 * 3600_000;
const RESET_TTL_MS = 3600_000;
const CHANGE_EMAIL_TTL_MS = 24 * 3600_000;
/** Mails to the owner of an address that someone tries to register again, per 24 hours. */
export const REGISTER_EXISTING_MAILS_PER_DAY = 3;
/** Password-reset mails to one account per 24 hours (anyone can ask for them). */
export const RESET_MAILS_PER_DAY = 5;
/** Address-change confirmations one account may send per 24 hours. */
export const EMAIL_CHANGE_MAILS_PER_DAY = 5;

export interface RequestMeta extends SessionMeta {
  address?: string | null;
}

export function normalizeEmail(raw: unknown): string {
  const email = typeof raw === 'string' ? raw.trim() : '';
  if (!email || email.length > 254 || !/^[^\s@<>()"',;:\\]+@[^\s@<>()"',;:\\]+\.[^\s@<>()"',;:\\]+$/.test(email)) {
    throw new AsloError('EMAIL_INVALID', 'Enter a valid e-mail address, like name@example.org.', { details: { field: 'email' } });
  }
  return email;
}

export function checkDisplayName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim().replace(/\s+/g, ' ') : '';
  if (!name || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new AsloError('DISPLAY_NAME_INVALID', 'Enter a display name of 1 to 100 characters.', { details: { field: 'display_name' } });
  }
  if (hasBidiOverride(name)) {
    throw new AsloError(
      'NAME_BIDI_OVERRIDE',
      'The display name contains bidirectional embedding, override or isolate characters (U+202A to U+202E, U+2066 to U+2069), which make it display as something else. Remove them.',
      { details: { field: 'display_name' } },
    );
  }
  return name;
}

export function actorFromUser(
  user: Pick<User, 'id' | 'email' | 'display_name' | 'role' | 'email_verified_at'> & { locale?: string | null },
  via: Actor['via'],
  extra: Partial<Actor> = {},
): Actor {
  return {
    userId: user.id,
    email: user.email,
    displayName: user.display_name,
    role: user.role,
    emailVerified: user.email_verified_at !== null,
    via,
    scopes: null,
    address: null,
    locale: user.locale ?? null,
    ...extra,
  };
}

export class AccountService {
  constructor(
    private readonly ctx: AppContext,
    private readonly mailer: Mailer,
    readonly sessions: SessionStore,
  ) {}

  private get db(): Db {
    return this.ctx.db;
  }

  private link(path: string): string {
    return `${this.ctx.config.server.baseUrl}${path}`;
  }

  async findByEmail(email: string) {
    return q.userByEmail(this.db, email);
  }

  async getUser(id: number) {
    return q.userById(this.db, id);
  }

  private async issueEmailToken(userId: number, purpose: EmailTokenPurpose, ttlMs: number, newEmail: string | null = null): Promise<string> {
    const token = randomToken(32);
    const now = new Date();
    await this.db.transaction().execute(async (trx) => {
      // One live link per purpose: a new one replaces the old.
      await q.replaceEmailToken(trx, { tokenHash: sha256Hex(token), userId, purpose, newEmail, createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) });
    });
    return token;
  }

  /** Take a mail-link token: valid, unused, unexpired, of this purpose. */
  private async takeEmailToken(token: unknown, purpose: EmailTokenPurpose) {
    const bad = new AsloError(
      'LINK_INVALID',
      'This link is not valid any more: it was used already, has expired, or was replaced by a newer one. Ask for a new mail.',
      { statusCode: 400 },
    );
    if (typeof token !== 'string' || token.length < 20 || token.length > 100) throw bad;
    const row = await q.emailToken(this.db, sha256Hex(token), purpose);
    if (!row || row.used_at || row.expires_at.getTime() < Date.now()) throw bad;
    return row;
  }

  // --- registration and verification ------------------------------------------------------

  async register(input: { email: unknown; displayName: unknown; password: unknown; locale?: string | null }, meta: RequestMeta): Promise<void> {
    const email = normalizeEmail(input.email);
    const displayName = checkDisplayName(input.displayName);
    const password = checkPasswordRules(input.password);
    const existing = await this.findByEmail(email);
    if (existing) {
      await burnVerification(password);
      // At most REGISTER_EXISTING_MAILS_PER_DAY such mails a day to one owner, whoever asks
      // and from wherever: registering someone's address again and again must not bomb them.
      // The audit log counts them (shared by every process); the row lock orders concurrent
      // requests for the same account.
      const mail = await this.takeMailBudget(existing.id, 'user.register_existing', REGISTER_EXISTING_MAILS_PER_DAY, null, { address: meta.address ?? null });
      if (mail) await this.mailer.send(text.registerExisting(email, this.link('/account/login'), this.link('/account/forgot')));
      return;
    }
    const hash = await hashPassword(password);
    const now = new Date();
    let userId: number;
    try {
      userId = await this.db.transaction().execute(async (trx) => {
        const id = await q.insertUser(trx, { email, displayName, passwordHash: hash, emailVerifiedAt: null, locale: input.locale ?? null, at: now });
        await audit(trx, {
          actor: null,
          actorLabel: `user:${id} ${email}`,
          action: 'user.register',
          targetType: 'user',
          targetId: id,
          details: { address: meta.address ?? null },
        });
        return id;
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        // Registered by a concurrent request: answer as for an existing address.
        return;
      }
      throw err;
    }
    const token = await this.issueEmailToken(userId, 'verify', VERIFY_TTL_MS);
    await this.mailer.send(text.verifyEmail(email, displayName, this.link(`/account/verify?token=${token}`)));
  }

  async resendVerification(viewer: Viewer): Promise<void> {
    const actor = requireActor(viewer);
    const user = await this.getUser(actor.userId);
    if (!user || user.email_verified_at) return;
    const token = await this.issueEmailToken(user.id, 'verify', VERIFY_TTL_MS);
    await this.mailer.send(text.verifyEmail(user.email, user.display_name, this.link(`/account/verify?token=${token}`)));
  }

  async verifyEmail(token: unknown): Promise<void> {
    const row = await this.takeEmailToken(token, 'verify');
    await this.db.transaction().execute(async (trx) => {
      await q.markEmailTokenUsed(trx, row.token_hash);
      await q.markEmailVerified(trx, row.user_id);
      await audit(trx, { actor: null, actorLabel: `user:${row.user_id}`, action: 'user.verify_email', targetType: 'user', targetId: row.user_id });
    });
  }

  // --- login and sessions -------------------------------------------------------------------

  async login(emailRaw: unknown, passwordRaw: unknown, meta: RequestMeta): Promise<{ token: string; expiresAt: Date; user: User }> {
    const failed = new AsloError('LOGIN_FAILED', 'The e-mail address or the password is wrong.', { statusCode: 401 });
    if (typeof emailRaw !== 'string' || typeof passwordRaw !== 'string' || !passwordRaw || passwordRaw.length > 1000) throw failed;
    const user = await this.findByEmail(emailRaw.trim());
    if (!user) {
      // The same work as for an account: one verification (against a dummy hash of the same
      // cost) and one audit row, so neither the answer nor its time tells who is registered.
      await burnVerification(passwordRaw);
      await audit(this.db, {
        actor: null,
        actorLabel: `unknown ${emailRaw.trim().slice(0, 254)}`,
        action: 'user.login_failed',
        targetType: 'user',
        targetId: null,
        details: { address: meta.address ?? null },
      });
      throw failed;
    }
    const outcome = await verifyPassword(user, passwordRaw);
    if (outcome === 'fail') {
      await audit(this.db, {
        actor: null,
        actorLabel: `user:${user.id} ${user.email}`,
        action: 'user.login_failed',
        targetType: 'user',
        targetId: user.id,
        details: { address: meta.address ?? null },
      });
      throw failed;
    }
    if (outcome === 'upgrade') {
      const hash = await hashPassword(passwordRaw);
      await this.db.transaction().execute(async (trx) => {
        await q.setPasswordHash(trx, user.id, hash);
        await audit(trx, {
          actor: null,
          actorLabel: `user:${user.id} ${user.email}`,
          action: 'user.password_upgrade',
          targetType: 'user',
          targetId: user.id,
          reason: 'legacy hash replaced by argon2id at login',
        });
      });
    }
    const session = await this.sessions.create(user.id, meta);
    return { token: session.token, expiresAt: session.expiresAt, user };
  }

  async logout(token: string | undefined): Promise<void> {
    if (token) await this.sessions.destroy(token);
  }

  async viewerFromSession(token: string | undefined, address: string | null): Promise<Actor | null> {
    if (!token || token.length > 100) return null;
    const s = await this.sessions.get(token);
    if (!s) return null;
    const user = await this.getUser(s.userId);
    if (!user) return null;
    return actorFromUser(user, 'session', { address, credentialId: s.id });
  }

  // --- password reset -----------------------------------------------------------------------

  async requestPasswordReset(emailRaw: unknown, meta: RequestMeta = {}): Promise<void> {
    const email = normalizeEmail(emailRaw);
    const user = await this.findByEmail(email);
    if (!user) return;
    // Anyone may ask, so the mails an account receives are capped per day (same answer either way).
    if (!(await this.takeMailBudget(user.id, 'user.password_reset_requested', RESET_MAILS_PER_DAY, null, { address: meta.address ?? null }))) return;
    const token = await this.issueEmailToken(user.id, 'reset', RESET_TTL_MS);
    await this.mailer.send(text.passwordReset(user.email, user.display_name, this.link(`/account/reset?token=${token}`)));
  }

  async checkResetToken(token: unknown): Promise<void> {
    await this.takeEmailToken(token, 'reset');
  }

  async resetPassword(token: unknown, passwordRaw: unknown, meta: RequestMeta): Promise<void> {
    const password = checkPasswordRules(passwordRaw);
    const row = await this.takeEmailToken(token, 'reset');
    const hash = await hashPassword(password);
    let revoked: RevokedToken[] = [];
    await this.db.transaction().execute(async (trx) => {
      if (!(await q.useEmailTokenOnce(trx, row.token_hash))) throw new AsloError('LINK_INVALID', 'This link was used already. Ask for a new mail.');
      // Following the link proves the address, so it counts as verified.
      await q.setPasswordHash(trx, row.user_id, hash, { verifyEmail: true });
      // Whoever knew the old password may have made tokens or sessions: a reset ends them all.
      revoked = await revokeAllTokens(trx, row.user_id, 'password reset');
      await audit(trx, {
        actor: null,
        actorLabel: `user:${row.user_id}`,
        action: 'user.password_reset',
        targetType: 'user',
        targetId: row.user_id,
        details: { address: meta.address ?? null, revoked_tokens: revoked.map((t) => t.id) },
      });
    });
    await this.sessions.destroyAllFor(row.user_id);
    const user = await this.getUser(row.user_id);
    if (user) await this.mailer.send(text.passwordChanged(user.email, user.display_name, 'reset', revoked, true));
  }

  // --- changes to one's own account -----------------------------------------------------

  private async requirePassword(actor: Actor, password: unknown): Promise<User> {
    const user = await this.getUser(actor.userId);
    if (!user) throw new AsloError('AUTH_REQUIRED', 'Log in first.', { statusCode: 401 });
    if (typeof password !== 'string' || (await verifyPassword(user, password)) === 'fail') {
      throw new AsloError('PASSWORD_WRONG', 'The current password is wrong.', { statusCode: 403, details: { field: 'current_password' } });
    }
    return user;
  }

  /**
   * Change the password. With `signOutEverywhere` (the form's checkbox, checked by default) the
   * account's API tokens are revoked and its other sessions end, as after a reset.
   */
  async changePassword(viewer: Viewer, current: unknown, next: unknown, opts: { signOutEverywhere?: boolean } = {}): Promise<{ revoked: RevokedToken[] }> {
    const actor = requireActor(viewer);
    const password = checkPasswordRules(next, 'new password');
    const user = await this.requirePassword(actor, current);
    const everywhere = opts.signOutEverywhere ?? true;
    const hash = await hashPassword(password);
    let revoked: RevokedToken[] = [];
    await this.db.transaction().execute(async (trx) => {
      await q.setPasswordHash(trx, actor.userId, hash);
      if (everywhere) revoked = await revokeAllTokens(trx, actor.userId, 'password change');
      await audit(trx, {
        actor,
        action: 'user.password_change',
        targetType: 'user',
        targetId: actor.userId,
        details: { sign_out_everywhere: everywhere, revoked_tokens: revoked.map((t) => t.id) },
      });
    });
    if (everywhere) await this.sessions.destroyAllFor(actor.userId, typeof actor.credentialId === 'string' ? actor.credentialId : undefined);
    await this.mailer.send(text.passwordChanged(user.email, user.display_name, 'change', revoked, everywhere));
    return { revoked };
  }

  /**
   * The account's language (a BCP 47 tag like es, pt-BR), or none to follow the browser's
   * Accept-Language. Validation messages are shown in it first, where translated.
   */
  async setLocale(viewer: Viewer, localeRaw: unknown): Promise<string | null> {
    const actor = requireActor(viewer);
    const raw = typeof localeRaw === 'string' ? localeRaw.trim().replace(/_/g, '-') : '';
    if (raw && !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/.test(raw)) {
      throw new AsloError('LOCALE_INVALID', 'Choose a language from the list (a tag like es or pt-BR).', { details: { field: 'locale' } });
    }
    const [lang, ...rest] = raw.split('-');
    const locale = raw ? [lang!.toLowerCase(), ...rest.map((r) => (r.length === 2 ? r.toUpperCase() : r))].join('-') : null;
    await this.db.transaction().execute(async (trx) => {
      await q.setUserLocale(trx, actor.userId, locale);
      await audit(trx, { actor, action: 'user.locale_change', targetType: 'user', targetId: actor.userId, details: { locale } });
    });
    return locale;
  }

  async requestEmailChange(viewer: Viewer, password: unknown, newEmailRaw: unknown): Promise<void> {
    const actor = requireActor(viewer);
    const newEmail = normalizeEmail(newEmailRaw);
    const user = await this.requirePassword(actor, password);
    if (newEmail.toLowerCase() === user.email.toLowerCase())
      throw new AsloError('EMAIL_UNCHANGED', 'That is already your e-mail address.', { details: { field: 'email' } });
    // Each request mails an address of the requester's choice: capped per day, so an account
    // cannot be used to bomb someone else's mailbox.
    if (!(await this.takeMailBudget(user.id, 'user.email_change_requested', EMAIL_CHANGE_MAILS_PER_DAY, actor, { new_email: newEmail }))) {
      throw new AsloError(
        'EMAIL_CHANGE_LIMIT',
        `You asked for ${EMAIL_CHANGE_MAILS_PER_DAY} address changes in the last 24 hours. Open the link of one of those mails, or try again tomorrow.`,
        { statusCode: 429, details: { field: 'email' } },
      );
    }
    // Whether the new address is taken is only told at confirmation, to its own owner.
    const token = await this.issueEmailToken(user.id, 'change_email', CHANGE_EMAIL_TTL_MS, newEmail);
    await this.mailer.send(text.confirmNewEmail(newEmail, user.display_name, this.link(`/account/email/confirm?token=${token}`)));
    await this.mailer.send(text.emailChangeRequested(user.email, user.display_name, newEmail));
  }

  /**
   * Whether one more mail of this kind may go to the account today (and record the attempt):
   * at most `perDay` in 24 hours, counted in the audit log (`action` rows with `mailed`), so
   * every process agrees; the user's row lock orders concurrent requests.
   */
  private async takeMailBudget(userId: number, action: string, perDay: number, actor: Actor | null, details: Record<string, unknown>): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await q.lockUser(trx, userId);
      const since = new Date(Date.now() - 24 * 3600_000);
      const mailed = (await q.mailsSentSince(trx, userId, action, since)) < perDay;
      await audit(trx, { actor, actorLabel: actor ? undefined : 'anonymous', action, targetType: 'user', targetId: userId, details: { ...details, mailed } });
      return mailed;
    });
  }

  async confirmEmailChange(token: unknown): Promise<void> {
    const row = await this.takeEmailToken(token, 'change_email');
    const newEmail = row.new_email!;
    const taken = await this.findByEmail(newEmail);
    if (taken && taken.id !== row.user_id) {
      throw new AsloError('EMAIL_TAKEN', 'Another account uses this e-mail address already. Log in to that account, or delete it first.', { statusCode: 409 });
    }
    const old = await this.getUser(row.user_id);
    if (!old) throw new AsloError('LINK_INVALID', 'This link is not valid any more.');
    await this.db.transaction().execute(async (trx) => {
      await q.markEmailTokenUsed(trx, row.token_hash);
      await q.setUserEmail(trx, row.user_id, newEmail);
      await audit(trx, {
        actor: null,
        actorLabel: `user:${row.user_id} ${old.email}`,
        action: 'user.email_change',
        targetType: 'user',
        targetId: row.user_id,
        details: { from: old.email, to: newEmail },
      });
    });
  }

  async deleteAccount(viewer: Viewer, password: unknown): Promise<void> {
    const actor = requireActor(viewer);
    const user = await this.requirePassword(actor, password);
    await this.db.transaction().execute(async (trx) => {
      await q.deleteUser(trx, user.id, new Date());
      await audit(trx, { actor, action: 'user.delete', targetType: 'user', targetId: user.id });
    });
    await this.sessions.destroyAllFor(user.id);
  }

  // --- administration -----------------------------------------------------------------------

  /** Create an account directly (the CLI's `aslo user create`, tests): verified at once. */
  async createUser(input: { email: string; displayName: string; password: string; role?: Role; actorLabel?: string }): Promise<User> {
    const email = normalizeEmail(input.email);
    const displayName = checkDisplayName(input.displayName);
    const password = checkPasswordRules(input.password);
    const role = input.role ?? 'user';
    if (!ROLES.includes(role)) throw new AsloError('ROLE_INVALID', `Role must be one of ${ROLES.join(', ')}.`);
    if (await this.findByEmail(email)) throw new AsloError('EMAIL_TAKEN', `An account with the address ${email} exists already.`, { statusCode: 409 });
    const hash = await hashPassword(password);
    const now = new Date();
    return this.db.transaction().execute(async (trx) => {
      const user = await q.insertUserReturningRow(trx, { email, displayName, passwordHash: hash, role, emailVerifiedAt: now, locale: null, at: now });
      await audit(trx, {
        actor: null,
        actorLabel: input.actorLabel ?? 'cli',
        action: 'user.create',
        targetType: 'user',
        targetId: user.id,
        details: { email, role },
      });
      return user;
    });
  }

  /** Change a user's role. `viewer` null means the command line (trusted operator). */
  async setRole(viewer: Viewer | 'cli', userRef: string | number, roleRaw: string, reason: string | null = null): Promise<User> {
    const actor = viewer === 'cli' ? null : requireAdmin(viewer);
    if (!ROLES.includes(roleRaw as Role)) throw new AsloError('ROLE_INVALID', `Role must be one of ${ROLES.join(', ')}.`);
    const role = roleRaw as Role;
    const user = typeof userRef === 'number' ? await this.getUser(userRef) : await this.findByEmail(userRef);
    if (!user) throw new AsloError('USER_NOT_FOUND', `No account ${typeof userRef === 'number' ? `#${userRef}` : userRef}.`, { statusCode: 404 });
    if (actor && actor.userId === user.id && role !== 'admin') {
      throw new AsloError('ROLE_SELF_DEMOTION', 'Administrators cannot remove their own administrator role; ask another administrator.', { statusCode: 409 });
    }
    return this.db.transaction().execute(async (trx) => {
      const updated = await q.setUserRole(trx, user.id, role);
      await audit(trx, {
        actor,
        actorLabel: actor ? undefined : 'cli',
        action: 'user.role',
        targetType: 'user',
        targetId: user.id,
        reason,
        details: { from: user.role, to: role },
      });
      return updated;
    });
  }

  async listUsers(viewer: Viewer, filter: { search?: string; page?: number } = {}) {
    requireAdmin(viewer);
    return q.listUsers(this.db, filter);
  }

  // --- personal API tokens --------------------------------------------------------------------

  async createApiToken(
    viewer: Viewer,
    input: { name: unknown; scopes: unknown; expiresInDays: unknown },
  ): Promise<{ id: number; token: string; expiresAt: Date }> {
    const actor = requireActor(viewer);
    if (actor.via === 'token') throw new AsloError('TOKEN_CANNOT_CREATE', 'API tokens are created in the web UI, not with another token.', { statusCode: 403 });
    return this.insertApiToken(actor.userId, actor, null, input);
  }

  /** `aslo token create`: the operator at the command line (trusted) makes a token for an account. */
  async createApiTokenForAccount(
    email: string,
    input: { name: unknown; scopes: unknown; expiresInDays: unknown },
    actorLabel = 'cli:token-create',
  ): Promise<{ id: number; token: string; expiresAt: Date; userId: number }> {
    const user = await this.findByEmail(normalizeEmail(email));
    if (!user) throw new AsloError('USER_NOT_FOUND', `No account ${email}.`, { statusCode: 404 });
    return { ...(await this.insertApiToken(user.id, null, actorLabel, input)), userId: user.id };
  }

  private async insertApiToken(
    userId: number,
    actor: Actor | null,
    actorLabel: string | null,
    input: { name: unknown; scopes: unknown; expiresInDays: unknown },
  ): Promise<{ id: number; token: string; expiresAt: Date }> {
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    if (!name || name.length > 100)
      throw new AsloError('TOKEN_NAME_INVALID', 'Give the token a name of 1 to 100 characters (where it is used, for example "laptop CLI").', {
        details: { field: 'name' },
      });
    const scopes = (Array.isArray(input.scopes) ? input.scopes : typeof input.scopes === 'string' ? [input.scopes] : []).map(String);
    if (scopes.length === 0 || scopes.some((s) => !SCOPES.includes(s as TokenScope))) {
      throw new AsloError('TOKEN_SCOPE_INVALID', `Choose the token's scopes among ${SCOPES.join(', ')}.`, { details: { field: 'scopes' } });
    }
    const max = this.ctx.config.accounts.tokenMaxDays;
    const days = Number(input.expiresInDays ?? 90);
    if (!Number.isInteger(days) || days < 1 || days > max) {
      throw new AsloError('TOKEN_EXPIRY_INVALID', `A token lasts from 1 to ${max} days.`, { details: { field: 'expires_in_days' } });
    }
    const token = newApiToken();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + days * 24 * 3600_000);
    const id = await this.db.transaction().execute(async (trx) => {
      const tokenId = await q.insertApiToken(trx, {
        userId,
        name,
        tokenHash: sha256Hex(token),
        tokenPrefix: token.slice(0, 9),
        scopes: [...new Set(scopes)] as TokenScope[],
        createdAt: now,
        expiresAt,
      });
      await audit(trx, {
        actor,
        actorLabel: actorLabel ?? undefined,
        action: 'token.create',
        targetType: 'api_token',
        targetId: tokenId,
        details: { name, scopes, expires_at: expiresAt.toISOString(), ...(actor ? {} : { user_id: userId }) },
      });
      return tokenId;
    });
    return { id, token, expiresAt };
  }

  async listApiTokens(viewer: Viewer) {
    const actor = requireActor(viewer);
    return q.apiTokensOf(this.db, actor.userId);
  }

  async revokeApiToken(viewer: Viewer, id: number): Promise<void> {
    const actor = requireActor(viewer);
    const row = await q.apiTokenOwner(this.db, id);
    // Someone else's token is "not found", not "forbidden": ids of others' tokens are not told.
    if (!row || row.user_id !== actor.userId) throw new AsloError('TOKEN_NOT_FOUND', `You have no API token #${id}.`, { statusCode: 404 });
    if (row.revoked_at) return;
    await this.db.transaction().execute(async (trx) => {
      await q.revokeApiToken(trx, id, 'revoked by its owner');
      await audit(trx, { actor, action: 'token.revoke', targetType: 'api_token', targetId: id });
    });
  }

  async viewerFromApiToken(token: string, address: string | null): Promise<Actor | null> {
    if (!/^aslo_[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const row = await q.apiTokenCredentials(this.db, sha256Hex(token));
    if (!row || row.revoked_at || row.deleted_at || row.expires_at.getTime() <= Date.now()) return null;
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > 60_000) {
      // Bookkeeping: skipped while the store is read-only (the primary down), so API reads go on.
      await q.touchApiToken(this.db, row.tokenId).catch(ignoreReadOnly);
    }
    return actorFromUser(row, 'token', { scopes: row.scopes, address, credentialId: row.tokenId });
  }

  /**
   * Revoke every live token that appears in `haystack` (the text of an uploaded bundle's files)
   * and tell each token's owner by mail. Returns what was revoked.
   */
  async revokeLeakedTokens(
    found: { token: string; file: string }[],
    context: { bundleId: string | null; uploader: number | null },
  ): Promise<{ tokenId: number; file: string }[]> {
    const out: { tokenId: number; file: string }[] = [];
    const seen = new Set<string>();
    for (const { token, file } of found) {
      if (seen.has(token)) continue;
      seen.add(token);
      const row = await q.apiTokenWithOwner(this.db, sha256Hex(token));
      if (!row || row.revoked_at) continue;
      await this.db.transaction().execute(async (trx) => {
        await q.revokeApiToken(trx, row.id, `found in an uploaded bundle (${file})`);
        await audit(trx, {
          actor: null,
          actorLabel: 'system:token-scan',
          action: 'token.revoke_leaked',
          targetType: 'api_token',
          targetId: row.id,
          reason: 'token found inside an uploaded bundle',
          details: { file, bundle_id: context.bundleId, uploader: context.uploader },
        });
      });
      await this.mailer.send(text.tokenLeaked(row.email, row.display_name, row.name, row.token_prefix, file, context.bundleId));
      out.push({ tokenId: row.id, file });
    }
    return out;
  }

  // ---- the operator's command line (aslo user list): trusted, no viewer ----

  /** Every account that is not deleted, oldest first (no page limit); only those with `role` when given. */
  async allUsers(role?: Role) {
    return q.allUsers(this.db, role);
  }
}

export interface RevokedToken {
  id: number;
  name: string;
  prefix: string;
}

/** Revoke every live API token of a user (inside the caller's transaction); returns them. */
async function revokeAllTokens(trx: Db, userId: number, reason: string): Promise<RevokedToken[]> {
  const rows = await q.revokeLiveApiTokens(trx, userId, reason);
  return rows.map((r) => ({ id: r.id, name: r.name, prefix: r.token_prefix })).sort((a, b) => a.id - b.id);
}
