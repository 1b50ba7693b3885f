// The access checks every service method starts with (src/accounts/access.ts), without a
// database: who may act, with which role, token scope, verified address and authorship.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Role } from '../../src/platform/db/schema.js';
import {
  isAdmin,
  isEditor,
  requireActor,
  requireAdmin,
  requireAuthorRole,
  requireEditor,
  requireScope,
  requireVerified,
  seesHidden,
  type Actor,
} from '../../src/accounts/access.js';

function actor(role: Role, o: Partial<Actor> = {}): Actor {
  return { userId: 5, email: 'a@example.org', displayName: 'A', role, emailVerified: true, via: 'session', scopes: null, address: null, ...o };
}

/** The error code and HTTP status a check throws, or 'ok'. */
function outcome(check: () => unknown): string {
  try {
    check();
    return 'ok';
  } catch (err) {
    const e = err as { code?: string; statusCode?: number };
    assert.ok(e.code, `not an AsloError: ${String(err)}`);
    return `${e.code} ${e.statusCode}`;
  }
}

const user = actor('user');
const editor = actor('editor');
const admin = actor('admin');

describe('access checks', () => {
  it('requires someone logged in (401)', () => {
    assert.equal(
      outcome(() => requireActor(null)),
      'AUTH_REQUIRED 401',
    );
    assert.equal(requireActor(user), user);
  });

  it('gives editors editor rights and administrators both', () => {
    assert.deepEqual(
      [null, user, editor, admin].map((v) => isEditor(v)),
      [false, false, true, true],
    );
    assert.deepEqual(
      [null, user, editor, admin].map((v) => isAdmin(v)),
      [false, false, false, true],
    );
    assert.deepEqual(
      [null, user, editor, admin].map((v) => outcome(() => requireEditor(v))),
      ['AUTH_REQUIRED 401', 'FORBIDDEN_NOT_EDITOR 403', 'ok', 'ok'],
    );
    assert.deepEqual(
      [null, user, editor, admin].map((v) => outcome(() => requireAdmin(v))),
      ['AUTH_REQUIRED 401', 'FORBIDDEN_NOT_ADMIN 403', 'FORBIDDEN_NOT_ADMIN 403', 'ok'],
    );
  });

  it('limits API tokens to their scopes; sessions and the command line have every scope of their role', () => {
    const token = actor('admin', { via: 'token', scopes: ['publish'] });
    assert.equal(
      outcome(() => requireScope(token, 'publish')),
      'ok',
    );
    assert.equal(
      outcome(() => requireScope(token, 'review')),
      'TOKEN_SCOPE_MISSING 403',
    );
    assert.equal(
      outcome(() => requireScope(actor('user', { via: 'token', scopes: [] }), 'publish')),
      'TOKEN_SCOPE_MISSING 403',
    );
    assert.equal(
      outcome(() => requireScope(user, 'review')),
      'ok',
    );
    assert.equal(
      outcome(() => requireScope(actor('user', { via: 'cli' }), 'review')),
      'ok',
    );
  });

  it('asks for a confirmed address only where the deployment requires one', () => {
    const unverified = actor('user', { emailVerified: false });
    assert.equal(
      outcome(() => requireVerified(unverified, true)),
      'EMAIL_NOT_VERIFIED 403',
    );
    assert.equal(
      outcome(() => requireVerified(unverified, false)),
      'ok',
    );
    assert.equal(
      outcome(() => requireVerified(user, true)),
      'ok',
    );
  });

  it("lets an activity's authors act on it, owners alone where ownership is needed, administrators when allowed", () => {
    const cases: [string, Actor | null, 'owner' | 'developer' | null, { owner?: boolean; orAdmin?: boolean }, string][] = [
      ['nobody', null, null, {}, 'AUTH_REQUIRED 401'],
      ['a stranger', user, null, {}, 'FORBIDDEN_NOT_AUTHOR 403'],
      ['a developer', user, 'developer', {}, 'ok'],
      ['an owner', user, 'owner', {}, 'ok'],
      ['a developer, owner needed', user, 'developer', { owner: true }, 'FORBIDDEN_NOT_OWNER 403'],
      ['an owner, owner needed', user, 'owner', { owner: true }, 'ok'],
      ['an editor who is no author', editor, null, {}, 'FORBIDDEN_NOT_AUTHOR 403'],
      ['an editor, admins allowed', editor, null, { orAdmin: true }, 'FORBIDDEN_NOT_AUTHOR 403'],
      ['an admin who is no author', admin, null, {}, 'FORBIDDEN_NOT_AUTHOR 403'],
      ['an admin, admins allowed', admin, null, { orAdmin: true }, 'ok'],
      ['an admin, owner needed, admins allowed', admin, 'developer', { owner: true, orAdmin: true }, 'ok'],
    ];
    for (const [who, viewer, role, opts, want] of cases)
      assert.equal(
        outcome(() => requireAuthorRole(viewer, role, opts)),
        want,
        who,
      );
    assert.equal(requireAuthorRole(user, 'owner'), user);
  });

  it('shows hidden things of an activity to its authors, editors and administrators only', () => {
    assert.equal(seesHidden(null, null), false);
    assert.equal(seesHidden(null, 'owner'), false);
    assert.equal(seesHidden(user, null), false);
    assert.equal(seesHidden(user, 'developer'), true);
    assert.equal(seesHidden(user, 'owner'), true);
    assert.equal(seesHidden(editor, null), true);
    assert.equal(seesHidden(admin, null), true);
  });
});
