// High-entropy random tokens (session cookies, API tokens, mail links) and their stored form.
// Only the sha256 of a token is ever stored, so a copy of the database logs nobody in.
import { createHash, randomBytes } from 'node:crypto';

/** Prefix of personal API tokens: lets the bundle scanner (and secret scanners) recognize them. */
export const API_TOKEN_PREFIX = 'aslo_';
/** An API token: the prefix and 43 base64url characters (256 bits). */
export const API_TOKEN_PATTERN = /aslo_[A-Za-z0-9_-]{43}/g;

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function newApiToken(): string {
  return API_TOKEN_PREFIX + randomToken(32);
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}
