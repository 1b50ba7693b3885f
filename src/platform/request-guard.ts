// The checks every request passes before any route sees it, so that no input can reach a
// handler, a service or the database in a form they cannot take (docs/api.md, "Errors"):
//   - the URL (path and query): no NUL byte, valid UTF-8 (raw bytes and percent-escapes);
//   - a declared Content-Length above the upload limit: 413 before a byte of the body is read;
//   - a multipart body must name a boundary RFC 2046 allows (1 to 70 characters);
//   - a parsed body (JSON, form, text): no NUL byte and no unpaired surrogate in any key or value.
// The app's HTTP server sends requests whose URL fails the check past its fast paths, to Fastify
// (src/platform/http/fast-path-server.ts), so they get the same answer however they arrive.
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AsloError, type ErrorCode } from './errors.js';

export type InputProblem = 'nul' | 'encoding';

/** What the request of each problem is answered: 400 and a stable code. */
export const PROBLEMS: Record<InputProblem, { code: ErrorCode; message: string }> = {
  nul: { code: 'REQUEST_NUL_BYTE', message: 'The request holds a NUL byte (%00), which no address, parameter or field may contain.' },
  encoding: { code: 'REQUEST_BAD_ENCODING', message: 'The request is not valid UTF-8 (a percent-escape or a byte that is not part of a UTF-8 character).' },
};

/** Extra bytes a multipart upload may carry around the bundle itself (boundaries, headers, small fields). */
export const MULTIPART_ALLOWANCE_BYTES = 1024 * 1024;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The problem of a request URL as it came from the wire (Node gives its bytes as latin1
 * characters; inject() may give any string), or null. Cheap for the common URL: one pass over
 * its characters, and the bytes are only decoded when there is a percent-escape or a non-ASCII
 * character. A '%' that starts no escape is left to the router (a path) or kept as text (a query).
 */
export function urlProblem(url: string): InputProblem | null {
  let decode = false;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0) return 'nul';
    if (c === 37 || c > 0x7f) decode = true;
  }
  if (!decode) return null;
  const bytes: number[] = [];
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 37 && i + 2 < url.length) {
      const h = hexValue(url.charCodeAt(i + 1));
      const l = hexValue(url.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        const b = h * 16 + l;
        if (b === 0) return 'nul';
        bytes.push(b);
        i += 2;
        continue;
      }
      bytes.push(c);
    } else if (c <= 0xff) {
      bytes.push(c);
    } else {
      // Only inject() can give characters beyond latin1: take them as the UTF-8 they stand for.
      const cp = url.codePointAt(i)!;
      if (cp >= 0xd800 && cp <= 0xdfff) return 'encoding';
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return isUtf8(Uint8Array.from(bytes)) ? null : 'encoding';
}

/** The AsloError of a text that holds a NUL byte or an unpaired surrogate (400, the guard's codes), or null. */
export function textError(s: string): AsloError | null {
  const p = stringProblem(s);
  return p ? new AsloError(PROBLEMS[p].code, PROBLEMS[p].message) : null;
}

function stringProblem(s: string): InputProblem | null {
  if (s.includes('\u0000')) return 'nul';
  return (s as string & { isWellFormed(): boolean }).isWellFormed() ? null : 'encoding';
}

/** The problem of a parsed body (any depth, keys and values), or null. Streams and buffers are the route's. */
export function bodyProblem(body: unknown): InputProblem | null {
  if (typeof body === 'string') return stringProblem(body);
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body) || typeof (body as { pipe?: unknown }).pipe === 'function') return null;
  // Iterative: a body nested a million levels deep must not overflow the stack.
  const stack: object[] = [body];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (Array.isArray(o)) {
      for (const v of o) {
        if (typeof v === 'string') {
          const p = stringProblem(v);
          if (p) return p;
        } else if (v !== null && typeof v === 'object') stack.push(v);
      }
      continue;
    }
    for (const k of Object.keys(o)) {
      const kp = stringProblem(k);
      if (kp) return kp;
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === 'string') {
        const p = stringProblem(v);
        if (p) return p;
      } else if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
  return null;
}

/** Why a multipart Content-Type cannot be parsed (no boundary, or one RFC 2046 does not allow), or null. */
export function multipartProblem(contentType: string): string | null {
  if (!/^\s*multipart\//i.test(contentType)) return null;
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  const boundary = m ? (m[1] ?? m[2] ?? '') : '';
  if (!boundary) return 'The multipart Content-Type names no boundary.';
  if (boundary.length > 70) return `The multipart boundary is ${boundary.length} characters long; at most 70 are allowed (RFC 2046).`;
  return null;
}

/** Answered from the guard's hooks, before the later ones (the request id header is set here too). */
function refuse(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.status(status).header('cache-control', 'no-store').header('x-request-id', reply.request.id).send({ error: { code, message } });
}

/** Installs the checks on the whole app; call before any route or plugin is registered. */
export function installRequestGuard(app: FastifyInstance, opts: { maxBodyBytes: number }): void {
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const problem = urlProblem(req.raw.url ?? req.url);
    if (problem) {
      void refuse(reply, 400, PROBLEMS[problem].code, PROBLEMS[problem].message);
      return;
    }
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > opts.maxBodyBytes) {
      // Answered before the body is read, and the connection closed after the answer, so the
      // body is never read at all.
      void reply.header('connection', 'close');
      void refuse(reply, 413, 'REQUEST_TOO_LARGE', `The request declares ${length} bytes; this store accepts at most ${opts.maxBodyBytes}.`);
      return;
    }
    const type = req.headers['content-type'];
    if (typeof type === 'string') {
      const mp = multipartProblem(type);
      if (mp) {
        void refuse(reply, 400, 'MULTIPART_MALFORMED', mp);
        return;
      }
    }
    done();
  });
  app.addHook('preValidation', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const problem = req.body === undefined ? null : bodyProblem(req.body);
    if (problem) {
      void refuse(reply, 400, PROBLEMS[problem].code, PROBLEMS[problem].message);
      return;
    }
    // A multipart form is read by its handler (streamed, never parsed here): the file part it
    // asks for is checked as it arrives, its file name and the fields before it.
    const mp = req as unknown as { isMultipart?: () => boolean; file?: (...args: unknown[]) => Promise<unknown> };
    if (typeof mp.file === 'function' && mp.isMultipart?.()) {
      const file = mp.file.bind(req);
      mp.file = async (...args: unknown[]) => {
        const part = (await file(...args)) as { filename?: unknown; fields?: Record<string, unknown> } | undefined;
        if (part) {
          const texts: unknown[] = [part.filename];
          for (const f of Object.values(part.fields ?? {}))
            for (const x of [f].flat()) texts.push(typeof x === 'object' && x !== null && 'value' in x ? (x as { value: unknown }).value : undefined);
          for (const t of texts) {
            const err = typeof t === 'string' ? textError(t) : null;
            if (err) throw err;
          }
        }
        return part;
      };
    }
    done();
  });
}

/** The largest whole number JavaScript holds exactly; every id column (bigint) holds it too. */
export const MAX_ID = Number.MAX_SAFE_INTEGER;
/** The largest value of a PostgreSQL integer column (the old site's legacy ids). */
export const MAX_INT4 = 2_147_483_647;

/** A row id from a path or a form (digits only, 1 to MAX_ID), or null when it cannot name a row. */
export function parseId(raw: unknown, max = MAX_ID): number | null {
  if (typeof raw !== 'string' || !/^[0-9]{1,16}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : null;
}

/**
 * Gives every `integer` of a route's schema (params, querystring, body) the bounds a database
 * id can take, where the route set none: a number beyond them fails validation (a path that
 * names nothing: 404) instead of reaching PostgreSQL as an out-of-range bigint. Idempotent.
 */
export function boundIntegers(schema: unknown): void {
  const stack: unknown[] = [schema];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const s = stack.pop();
    if (s === null || typeof s !== 'object' || seen.has(s)) continue;
    seen.add(s);
    const o = s as Record<string, unknown>;
    const type = o.type;
    if (type === 'integer' || (Array.isArray(type) && type.includes('integer'))) {
      if (o.maximum === undefined && o.exclusiveMaximum === undefined) o.maximum = MAX_ID;
      if (o.minimum === undefined && o.exclusiveMinimum === undefined) o.minimum = -MAX_ID;
    }
    for (const key of ['properties', 'patternProperties']) {
      const p = o[key];
      if (p && typeof p === 'object') stack.push(...Object.values(p));
    }
    for (const key of ['items', 'additionalProperties', 'not']) if (o[key] && typeof o[key] === 'object') stack.push(o[key]);
    for (const key of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(o[key])) stack.push(...(o[key] as unknown[]));
  }
}
