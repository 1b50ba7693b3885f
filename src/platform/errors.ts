// Every error a user or client can see carries a stable code they can search for: the codes, their
// statuses and meanings are listed in ./error-codes.ts (docs/errors.md is generated from it).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, statusOf } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

export class AsloError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details?: unknown;

  /** The status is the code's (./error-codes.ts) unless the call gives another. */
  constructor(code: ErrorCode, message: string, opts: { statusCode?: number; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AsloError';
    this.code = code;
    this.statusCode = opts.statusCode ?? statusOf(code);
    this.details = opts.details;
  }
}

export function notFound(code: ErrorCode, message: string): AsloError {
  return new AsloError(code, message, { statusCode: 404 });
}

export function isAsloError(err: unknown): err is AsloError {
  return err instanceof AsloError;
}

/** What a request that failed is answered, and how loudly it is logged. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  /** 'error': our fault, logged with its stack; 'info': the client went away; null: the client's mistake, not logged. */
  log: 'error' | 'info' | null;
}

export const INTERNAL_MESSAGE = 'Something went wrong on our side. The error was logged; please try again.';

/** The errors of the multipart parser (busboy) when a form is cut short or does not follow its boundary. */
const MALFORMED_MULTIPART =
  /unexpected end of (multipart data|form)|terminated early|malformed part header|multipart: boundary not found|needle cannot have a length/i;
interface RequestLike {
  raw?: {
    destroyed?: boolean;
    complete?: boolean;
    readableAborted?: boolean;
    socket?: { destroyed?: boolean } | null;
    headers?: Record<string, string | string[] | undefined>;
  };
}

/**
 * True when the failure is the client closing the connection before its request was read whole
 * (nothing can be answered, nothing is wrong here). Judged by the request itself, so that a
 * connection reset by a service we call (mail, a mirror) is still an error of ours.
 */
export function isClientGone(err: unknown, req?: RequestLike): boolean {
  if ((err as { code?: unknown } | null)?.code === 'FST_MP_PREMATURE_CLOSE') return true;
  const raw = req?.raw;
  if (!raw) return false;
  return Boolean(raw.readableAborted || (raw.destroyed && !raw.complete) || (raw.socket?.destroyed && !raw.complete));
}

/**
 * The one place that decides how a failed request is answered: an AsloError as it says, the
 * client's mistakes (schema validation, bad bodies, malformed forms, CSRF) as 4xx with a stable
 * code, a client that went away at info level, and anything else as a logged 500.
 */
export function classifyError(err: unknown, req?: RequestLike): ErrorAnswer {
  // An AsloError was raised on purpose (a 503 while the database is read-only included): answered as it says, not logged.
  if (isAsloError(err)) return { status: err.statusCode, code: err.code, message: err.message, details: err.details, log: null };
  const e = (err ?? {}) as { statusCode?: number; code?: string; message?: string; validation?: unknown; validationContext?: string };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (e.validation) {
    // A path that does not fit its route's parameters (an id that is not one, or beyond any
    // id the database can hold) names nothing: 404, like any other unknown address.
    if (e.validationContext === 'params') return { status: 404, code: 'NOT_FOUND', message: 'Nothing at this address.', log: null };
    return { status: 400, code: 'BAD_REQUEST', message, log: null };
  }
  if (typeof e.code === 'string' && e.code.startsWith('FST_CSRF')) {
    return {
      status: 403,
      code: 'CSRF_INVALID',
      message: 'This form has expired or did not come from this site. Go back, reload the page and try again.',
      log: null,
    };
  }
  if (
    e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ||
    e.code === 'FST_REQ_FILE_TOO_LARGE' ||
    e.code === 'FST_PARTS_LIMIT' ||
    e.code === 'FST_FILES_LIMIT' ||
    e.code === 'FST_FIELDS_LIMIT'
  ) {
    return { status: 413, code: 'REQUEST_TOO_LARGE', message: `The request is larger than this address accepts (${message}).`, log: null };
  }
  if (isClientGone(err, req))
    return { status: 400, code: 'CLIENT_CLOSED', message: 'The client closed the connection before the request was read.', log: 'info' };
  const multipart = /^\s*multipart\//i.test(String(req?.raw?.headers?.['content-type'] ?? ''));
  if (multipart && (MALFORMED_MULTIPART.test(message) || e.code === 'FST_PROTO_VIOLATION' || e.code === 'FST_INVALID_JSON_FIELD_ERROR')) {
    return { status: 400, code: 'MULTIPART_MALFORMED', message: `The form data is malformed: ${message}.`, log: null };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message, log: null };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: e.code ?? 'BAD_REQUEST', message, log: null };
  }
  return { status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE, log: 'error' };
}

/** The JSON body of every error answer: `{"error": {"code", "message"}}` (and `details` when there are some). */
export function errorBody(code: string, message: string, details?: unknown): { error: { code: string; message: string; details?: unknown } } {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * Renders a failed request as a page (the store's and the hub's HTML error pages, in src/web):
 * given the answer already classified and logged, it sends the reply.
 */
export type ErrorPageRenderer = (answer: ErrorAnswer, req: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * The one way a failed request is answered, by every error handler: classified (classifyError),
 * logged as loudly as it deserves, then sent as the JSON error body, or as a page by the renderer
 * an HTML part of the site gives.
 */
export function answerError(err: unknown, req: FastifyRequest, reply: FastifyReply, renderPage?: ErrorPageRenderer): unknown {
  const answer = classifyError(err, req);
  if (answer.log === 'error') req.log.error({ err }, 'unhandled error');
  else if (answer.log === 'info') req.log.info({ code: answer.code }, answer.message);
  if (renderPage) return renderPage(answer, req, reply);
  return reply.status(answer.status).send(errorBody(answer.code, answer.message, answer.details));
}
