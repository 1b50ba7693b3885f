// Password hashing: argon2id for every new hash. Accounts imported from the old site keep their
// legacy hash (unsalted md5 hex, or `sha512$<salt>$<hex>` = sha512(salt + password)) until the
// next successful login replaces it with argon2id.
import { createHash, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import { AsloError } from '../platform/errors.js';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 1000;

// OWASP's argon2id recommendation (19 MiB, 2 passes); the hash records them, so hashes made with
// other parameters (or by another argon2 library) keep verifying. @node-rs/argon2 ships prebuilt
// binaries for every platform npm installs on, so installing never needs a compiler.
// Algorithm is a const enum in the typings (absent at run time): 2 is Argon2id.
const ARGON2_OPTIONS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2Hash(password, ARGON2_OPTIONS);
}

export function checkPasswordRules(password: unknown, field = 'password'): string {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) {
    throw new AsloError('PASSWORD_TOO_SHORT', `The ${field} must have at least ${MIN_PASSWORD_LENGTH} characters.`, { details: { field } });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new AsloError('PASSWORD_TOO_LONG', `The ${field} may have at most ${MAX_PASSWORD_LENGTH} characters.`, { details: { field } });
  }
  return password;
}

/**
 * How many argon2 verifications ran (real or against the dummy hash). Every login attempt that
 * reaches the password check runs exactly one, whether or not the account exists, so the time
 * of an answer tells nothing: the tests count these instead of timing answers.
 */
export const verificationCounter = { count: 0 };

async function argon2VerifyCounted(hash: string, password: string): Promise<boolean> {
  verificationCounter.count++;
  return argon2Verify(hash, password);
}

let dummyHash: Promise<string> | null = null;

/** The dummy hash, made once (call at start so the first unknown login is not slower either). */
export function prepareDummyHash(): Promise<string> {
  dummyHash ??= argon2Hash('not a real password: timing equalizer', ARGON2_OPTIONS);
  return dummyHash;
}

/** Spend the time of one verification when there is no account, so timing does not reveal it. */
export async function burnVerification(password: string): Promise<void> {
  await argon2VerifyCounted(await prepareDummyHash(), password).catch(() => false);
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), 'utf8');
  const y = Buffer.from(b.toLowerCase(), 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether a legacy hash from the old site matches the password. */
export function verifyLegacyHash(legacy: string, password: string): boolean {
  if (/^[0-9a-f]{32}$/i.test(legacy)) {
    return safeEqualHex(createHash('md5').update(password, 'utf8').digest('hex'), legacy);
  }
  const m = /^sha512\$([^$]*)\$([0-9a-f]{128})$/i.exec(legacy);
  if (m) {
    return safeEqualHex(
      createHash('sha512')
        .update(m[1]! + password, 'utf8')
        .digest('hex'),
      m[2]!,
    );
  }
  return false;
}

export interface StoredCredentials {
  password_hash: string | null;
  legacy_hash: string | null;
}

/** 'ok' (argon2id matched), 'upgrade' (legacy matched: rehash now) or 'fail'. */
export async function verifyPassword(user: StoredCredentials, password: string): Promise<'ok' | 'upgrade' | 'fail'> {
  if (user.password_hash) {
    try {
      return (await argon2VerifyCounted(user.password_hash, password)) ? 'ok' : 'fail';
    } catch {
      return 'fail';
    }
  }
  if (user.legacy_hash) {
    // Equalize timing with the argon2 path, then check the legacy hash.
    await burnVerification(password);
    return verifyLegacyHash(user.legacy_hash, password) ? 'upgrade' : 'fail';
  }
  await burnVerification(password);
  return 'fail';
}
