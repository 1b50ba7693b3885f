// Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a browser that
// has logged in to an account gets a signed cookie naming that account and a random nonce. When
// someone else's failed guesses have locked the account for unknown clients, that browser still
// gets in: it is held only by its own per-device limit (a stolen cookie still needs the password,
// and guessing with it is limited per nonce). One cookie holds the entries of the last few
// accounts used in this browser (a family laptop).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from './secrets.js';

export const DEVICE_COOKIE = 'aslo_device';
const MAX_ENTRIES = 5;
const MAX_AGE_S = 365 * 24 * 3600;

export interface DeviceEntry {
  userId: number;
  nonce: string;
}

/** The valid entries of this browser's device cookie (none when absent, forged or malformed). */
export function deviceEntries(req: FastifyRequest): DeviceEntry[] {
  const raw = req.cookies?.[DEVICE_COOKIE];
  if (!raw || raw.length > 2000) return [];
  const un = req.unsignCookie(raw);
  if (!un.valid || !un.value) return [];
  const out: DeviceEntry[] = [];
  for (const part of un.value.split('~').slice(0, MAX_ENTRIES)) {
    const m = /^(\d{1,15})\.([A-Za-z0-9_-]{16,64})$/.exec(part);
    if (m) out.push({ userId: Number(m[1]), nonce: m[2]! });
  }
  return out;
}

/** This browser's entry for the account, when it has logged in to it before. */
export function deviceFor(req: FastifyRequest, userId: number): DeviceEntry | null {
  return deviceEntries(req).find((e) => e.userId === userId) ?? null;
}

/** After a successful login: (re)issue this browser's entry for the account, newest first. */
export function rememberDevice(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, userId: number): void {
  const others = deviceEntries(req).filter((e) => e.userId !== userId);
  const entries = [{ userId, nonce: randomToken(18) }, ...others].slice(0, MAX_ENTRIES);
  void reply.setCookie(DEVICE_COOKIE, entries.map((e) => `${e.userId}.${e.nonce}`).join('~'), {
    path: '/account',
    httpOnly: true,
    sameSite: 'lax',
    secure: app.ctx.config.server.baseUrl.startsWith('https:'),
    maxAge: MAX_AGE_S,
    signed: true,
  });
}
