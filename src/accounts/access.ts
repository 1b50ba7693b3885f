// Who is acting, and the access checks every service method starts with. Roles: user, editor,
// admin are stored; "developer" is derived: anyone who is an author of an activity. An admin
// holds every editor right.
import type { Kysely, Transaction } from 'kysely';
import type { Database, Role, TokenScope } from '../platform/db/schema.js';
import { AsloError } from '../platform/errors.js';
import { activityExists, authorRoleOf } from './queries.js';

export interface Actor {
  userId: number;
  email: string;
  displayName: string;
  role: Role;
  emailVerified: boolean;
  /** How the request proved who it is. */
  via: 'session' | 'token' | 'cli';
  /** Scopes of the API token (null for sessions and the CLI: everything the role allows). */
  scopes: TokenScope[] | null;
  /** Client address (for the audit log and rate limits). */
  address: string | null;
  /** Session or token id, to tell "this session" from the others. */
  credentialId?: string | number;
  /** The account's language (BCP 47), when its owner chose one: validation messages use it first. */
  locale?: string | null;
}

export type Viewer = Actor | null;
type Q = Kysely<Database> | Transaction<Database>;

export function requireActor(viewer: Viewer): Actor {
  if (!viewer) throw new AsloError('AUTH_REQUIRED', 'Log in first (or send an API token in the Authorization header).', { statusCode: 401 });
  return viewer;
}

export function requireScope(actor: Actor, scope: TokenScope): void {
  if (actor.scopes && !actor.scopes.includes(scope)) {
    throw new AsloError('TOKEN_SCOPE_MISSING', `This API token does not have the "${scope}" scope. Create a token with that scope in your account settings.`, {
      statusCode: 403,
    });
  }
}

export function isEditor(viewer: Viewer): boolean {
  return viewer?.role === 'editor' || viewer?.role === 'admin';
}

export function isAdmin(viewer: Viewer): boolean {
  return viewer?.role === 'admin';
}

export function requireEditor(viewer: Viewer): Actor {
  const actor = requireActor(viewer);
  if (!isEditor(actor)) throw new AsloError('FORBIDDEN_NOT_EDITOR', 'Only editors may do this.', { statusCode: 403 });
  return actor;
}

export function requireAdmin(viewer: Viewer): Actor {
  const actor = requireActor(viewer);
  if (!isAdmin(actor)) throw new AsloError('FORBIDDEN_NOT_ADMIN', 'Only administrators may do this.', { statusCode: 403 });
  return actor;
}

export function requireVerified(actor: Actor, required: boolean): void {
  if (required && !actor.emailVerified) {
    throw new AsloError('EMAIL_NOT_VERIFIED', 'Confirm your e-mail address first: follow the link in the mail we sent (your account page can send it again).', {
      statusCode: 403,
    });
  }
}

export async function authorRole(db: Q, activityId: number, userId: number): Promise<'owner' | 'developer' | null> {
  return authorRoleOf(db, activityId, userId);
}

/** The actor must be an author of the activity (an owner when `owner` is set). Admins pass when `orAdmin`. */
export async function requireAuthor(db: Q, viewer: Viewer, activityId: number, opts: { owner?: boolean; orAdmin?: boolean } = {}): Promise<Actor> {
  const actor = requireActor(viewer);
  if (opts.orAdmin && isAdmin(actor)) {
    // An administrator may act on any activity, but only on one that exists.
    if (!(await activityExists(db, activityId))) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity has the id ${activityId}.`, { statusCode: 404 });
    return actor;
  }
  return requireAuthorRole(actor, await authorRole(db, activityId, actor.userId), opts);
}

/** requireAuthor's decision once the actor's role on the activity (null: not an author) is known. */
export function requireAuthorRole(viewer: Viewer, role: 'owner' | 'developer' | null, opts: { owner?: boolean; orAdmin?: boolean } = {}): Actor {
  const actor = requireActor(viewer);
  if (opts.orAdmin && isAdmin(actor)) return actor;
  if (!role) throw new AsloError('FORBIDDEN_NOT_AUTHOR', 'Only the authors of this activity may do this.', { statusCode: 403 });
  if (opts.owner && role !== 'owner') throw new AsloError('FORBIDDEN_NOT_OWNER', 'Only an owner of this activity may do this.', { statusCode: 403 });
  return actor;
}

/** Author, editor or admin: may see non-public things of the activity. */
export async function canSeeHidden(db: Q, viewer: Viewer, activityId: number): Promise<boolean> {
  if (!viewer) return false;
  if (isEditor(viewer)) return true;
  return seesHidden(viewer, await authorRole(db, activityId, viewer.userId));
}

/** canSeeHidden's decision once the viewer's role on the activity (null: not an author) is known. */
export function seesHidden(viewer: Viewer, role: 'owner' | 'developer' | null): boolean {
  if (!viewer) return false;
  return isEditor(viewer) || role !== null;
}
