import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from '../../src/accounts/passwords.js';

// Made by the store's earlier password code (the `argon2` package, argon2id, m=19456, t=2, p=1):
// accounts registered before the change of library must keep logging in.
const EARLIER_HASH = '$argon2id$v=19$m=19456,p=1,t=2$fTYqQcOaLjvVpOX8Jbgg9A$HJC/qkGkq8OcWN5tt9MN97hDQLjEuwxiPzpUsqFxBM8';

test('argon2id hashes made by the earlier library still verify', async () => {
  assert.equal(await verifyPassword({ password_hash: EARLIER_HASH, legacy_hash: null }, 'correct horse battery staple'), 'ok');
  assert.equal(await verifyPassword({ password_hash: EARLIER_HASH, legacy_hash: null }, 'correct horse battery stapler'), 'fail');
});

test('new hashes are argon2id with the documented parameters and verify', async () => {
  const h = await hashPassword('a long enough password');
  assert.match(h, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword({ password_hash: h, legacy_hash: null }, 'a long enough password'), 'ok');
  assert.equal(await verifyPassword({ password_hash: h, legacy_hash: null }, 'another password'), 'fail');
});

test('a malformed stored hash fails instead of throwing', async () => {
  assert.equal(await verifyPassword({ password_hash: 'not-a-hash', legacy_hash: null }, 'x'), 'fail');
});
