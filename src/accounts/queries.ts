// The accounts domain's SQL: users, mail-link tokens, API tokens, database sessions and the
// author roles the access checks read. The pattern, database handle first, is explained in
// search/queries.ts.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { EmailTokenPurpose, Role, TokenScope } from '../platform/db/schema.js';

// --- users -------------------------------------------------------------------------------------

/** A live account by e-mail address (compared without case). */
export async function userByEmail(db: Db, email: string) {
  return db.selectFrom('users').selectAll().where(sql<string>`lower(email)`, '=', email.toLowerCase()).where('deleted_at', 'is', null).executeTakeFirst();
}

/** A live account by id. */
export async function userById(db: Db, id: number) {
  return db.selectFrom('users').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

export interface NewUser {
  email: string;
  displayName: string;
  passwordHash: string;
  role?: Role;
  emailVerifiedAt: Date | null;
  locale: string | null;
  at: Date;
}

function userValues(u: NewUser) {
  return {
    email: u.email,
    display_name: u.displayName,
    password_hash: u.passwordHash,
    legacy_hash: null,
    ...(u.role !== undefined ? { role: u.role } : {}),
    email_verified_at: u.emailVerifiedAt,
    locale: u.locale,
    homepage: null,
    bio: null,
    legacy_id: null,
    created_at: u.at,
    updated_at: u.at,
  };
}

/** Insert an account; its id. */
export async function insertUser(db: Db, u: NewUser): Promise<number> {
  const user = await db.insertInto('users').values(userValues(u)).returning('id').executeTakeFirstOrThrow();
  return user.id;
}

/** Insert an account; the whole row. */
export async function insertUserReturningRow(db: Db, u: NewUser) {
  return db.insertInto('users').values(userValues(u)).returningAll().executeTakeFirstOrThrow();
}

/** Take the account's row lock (orders concurrent requests about one account). */
export async function lockUser(db: Db, userId: number): Promise<void> {
  await db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}

export async function markEmailVerified(db: Db, userId: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ email_verified_at: new Date(), updated_at: new Date() })
    .where('id', '=', userId)
    .where('email_verified_at', 'is', null)
    .execute();
}

/** A new password hash (the legacy hash goes); `verifyEmail` also counts the address as verified. */
export async function setPasswordHash(db: Db, userId: number, hash: string, opts: { verifyEmail?: boolean } = {}): Promise<void> {
  await db
    .updateTable('users')
    .set({
      password_hash: hash,
      legacy_hash: null,
      ...(opts.verifyEmail ? { email_verified_at: sql`coalesce(email_verified_at, now())` } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', userId)
    .execute();
}

export async function setUserLocale(db: Db, userId: number, locale: string | null): Promise<void> {
  await db.updateTable('users').set({ locale, updated_at: new Date() }).where('id', '=', userId).execute();
}

/** A new, verified address. */
export async function setUserEmail(db: Db, userId: number, email: string): Promise<void> {
  await db.updateTable('users').set({ email, email_verified_at: new Date(), updated_at: new Date() }).where('id', '=', userId).execute();
}

export async function setUserRole(db: Db, userId: number, role: Role) {
  return db.updateTable('users').set({ role, updated_at: new Date() }).where('id', '=', userId).returningAll().executeTakeFirstOrThrow();
}

/**
 * Delete an account: its authorships, live API tokens and mail links go, and the row stays as a
 * "Deleted user" without personal data (other rows refer to it).
 */
export async function deleteUser(db: Db, userId: number, now: Date): Promise<void> {
  await db.deleteFrom('activity_authors').where('user_id', '=', userId).execute();
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: now, revoked_reason: 'account deleted' })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .execute();
  await db.deleteFrom('email_tokens').where('user_id', '=', userId).execute();
  await db
    .updateTable('users')
    .set({
      email: `deleted-${userId}@invalid`,
      display_name: 'Deleted user',
      password_hash: null,
      legacy_hash: null,
      homepage: null,
      bio: null,
      deleted_at: now,
      updated_at: now,
    })
    .where('id', '=', userId)
    .execute();
}

/** Live accounts, by id, 100 a page; `search` matches e-mail or display name (ILIKE, escaped). */
export async function listUsers(db: Db, q: { search?: string; page?: number }) {
  let base = db.selectFrom('users').where('deleted_at', 'is', null);
  if (q.search) {
    const p = `%${q.search.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    base = base.where((eb) => eb.or([eb('email', 'ilike', p), eb('display_name', 'ilike', p)]));
  }
  return base
    .select(['id', 'email', 'display_name', 'role', 'email_verified_at', 'created_at'])
    .orderBy('id')
    .limit(100)
    .offset(((q.page ?? 1) - 1) * 100)
    .execute();
}

/** How many audit rows of `action` about the user since `since` sent a mail (rows without `mailed` count). */
/** Every account that is not deleted, oldest first; only those with `role` when given. */
export async function allUsers(db: Db, role?: Role) {
  let q = db.selectFrom('users').select(['id', 'email', 'display_name', 'role', 'email_verified_at']).where('deleted_at', 'is', null).orderBy('id');
  if (role) q = q.where('role', '=', role);
  return q.execute();
}

export async function mailsSentSince(db: Db, userId: number, action: string, since: Date): Promise<number> {
  const sent = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('action', '=', action)
    .where('target_type', '=', 'user')
    .where('target_id', '=', String(userId))
    .where('at', '>', since)
    .where(sql<boolean>`coalesce((details::jsonb ->> 'mailed')::boolean, true)`)
    .executeTakeFirstOrThrow();
  return Number(sent.n);
}

// --- mail-link tokens --------------------------------------------------------------------------

/** The one live link per purpose: the old one goes. */
export async function replaceEmailToken(
  db: Db,
  row: { tokenHash: string; userId: number; purpose: EmailTokenPurpose; newEmail: string | null; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.deleteFrom('email_tokens').where('user_id', '=', row.userId).where('purpose', '=', row.purpose).execute();
  await db
    .insertInto('email_tokens')
    .values({
      token_hash: row.tokenHash,
      user_id: row.userId,
      purpose: row.purpose,
      new_email: row.newEmail,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .execute();
}

export async function emailToken(db: Db, tokenHash: string, purpose: EmailTokenPurpose) {
  return db.selectFrom('email_tokens').selectAll().where('token_hash', '=', tokenHash).where('purpose', '=', purpose).executeTakeFirst();
}

export async function markEmailTokenUsed(db: Db, tokenHash: string): Promise<void> {
  await db.updateTable('email_tokens').set({ used_at: new Date() }).where('token_hash', '=', tokenHash).execute();
}

/** Mark a link used unless it was already; whether this call did. */
export async function useEmailTokenOnce(db: Db, tokenHash: string): Promise<boolean> {
  const used = await db
    .updateTable('email_tokens')
    .set({ used_at: new Date() })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(used.numUpdatedRows) === 1;
}

// --- API tokens --------------------------------------------------------------------------------

/** Insert an API token; its id. */
export async function insertApiToken(
  db: Db,
  row: { userId: number; name: string; tokenHash: string; tokenPrefix: string; scopes: TokenScope[]; createdAt: Date; expiresAt: Date },
): Promise<number> {
  const r = await db
    .insertInto('api_tokens')
    .values({
      user_id: row.userId,
      name: row.name,
      token_hash: row.tokenHash,
      token_prefix: row.tokenPrefix,
      scopes: row.scopes,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

/** A user's API tokens, newest first. */
export async function apiTokensOf(db: Db, userId: number) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'name', 'token_prefix', 'scopes', 'created_at', 'expires_at', 'last_used_at', 'revoked_at', 'revoked_reason'])
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .execute();
}

export async function apiTokenOwner(db: Db, id: number) {
  return db.selectFrom('api_tokens').select(['id', 'user_id', 'revoked_at']).where('id', '=', id).executeTakeFirst();
}

export async function revokeApiToken(db: Db, id: number, reason: string): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: new Date(), revoked_reason: reason }).where('id', '=', id).execute();
}

/** Revoke every live, unexpired API token of a user; the revoked ones. */
export async function revokeLiveApiTokens(db: Db, userId: number, reason: string) {
  return db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date(), revoked_reason: reason })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning(['id', 'name', 'token_prefix'])
    .execute();
}

/** The token with this hash and its account, as a request's credentials need them. */
export async function apiTokenCredentials(db: Db, tokenHash: string) {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id as tokenId',
      't.scopes',
      't.expires_at',
      't.revoked_at',
      't.last_used_at',
      'u.id',
      'u.email',
      'u.display_name',
      'u.role',
      'u.email_verified_at',
      'u.deleted_at',
      'u.locale',
    ])
    .where('t.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function touchApiToken(db: Db, id: number): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: new Date() }).where('id', '=', id).execute();
}

/** The token with this hash and whom to tell when it leaked. */
export async function apiTokenWithOwner(db: Db, tokenHash: string) {
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id', 't.name', 't.token_prefix', 't.revoked_at', 'u.id as userId', 'u.email', 'u.display_name'])
    .where('t.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

// --- authors (the access checks) ---------------------------------------------------------------

export async function authorRoleOf(db: Db, activityId: number, userId: number): Promise<'owner' | 'developer' | null> {
  const row = await db.selectFrom('activity_authors').select('role').where('activity_id', '=', activityId).where('user_id', '=', userId).executeTakeFirst();
  return row?.role ?? null;
}

export async function activityExists(db: Db, activityId: number): Promise<boolean> {
  const exists = await db.selectFrom('activities').select('id').where('id', '=', activityId).executeTakeFirst();
  return exists !== undefined;
}

// --- database sessions -------------------------------------------------------------------------

export async function insertSession(
  db: Db,
  row: { id: string; userId: number; now: Date; expiresAt: Date; address: string | null; userAgent: string | null },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id: row.id,
      user_id: row.userId,
      created_at: row.now,
      expires_at: row.expiresAt,
      last_seen_at: row.now,
      address: row.address,
      user_agent: row.userAgent,
    })
    .execute();
}

export async function deleteSessionsExpiredBefore(db: Db, now: Date): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<', now).execute();
}

export async function sessionById(db: Db, id: string) {
  return db.selectFrom('sessions').select(['id', 'user_id', 'expires_at', 'last_seen_at']).where('id', '=', id).executeTakeFirst();
}

export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function slideSession(db: Db, id: string, lastSeenAt: Date, expiresAt: Date): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: lastSeenAt, expires_at: expiresAt }).where('id', '=', id).execute();
}

/** End a user's sessions, but the one `exceptId` when given. */
export async function deleteSessionsOf(db: Db, userId: number, exceptId?: string): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (exceptId) q = q.where('id', '!=', exceptId);
  await q.execute();
}
