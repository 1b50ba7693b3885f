// JSON logs (pino): one object per line on stdout, with the instance, the role and the process
// id in every line, and the request id (`reqId`) in every line written while serving a request.
// When stdout is a terminal (a developer running `aslo serve`; server.logFormat auto), the same
// lines are written for people instead: time, level, message and the fields that matter
// (prettyStream). pino-pretty is not a dependency: this small formatter does what is needed. Requests
// are one line each, at debug level (RequestLog): set server.logLevel to debug to see them.
//
// The request id comes from the X-Request-Id header when the balancer sets one (deploy/nginx
// passes nginx's $request_id), so one id follows a request from the balancer's access log to
// the application's lines; otherwise it is made here. Every answer carries it back in
// X-Request-Id.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AsloConfig } from '../config.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Accept ids a balancer would send (hex, uuids, base64url), never an attacker's essay. */
const GOOD_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function newRequestId(): string {
  return randomBytes(8).toString('hex');
}

/** Fastify's genReqId: the balancer's id when it is well-formed, else a new one. */
export function requestIdOf(req: IncomingMessage): string {
  const h = req.headers[REQUEST_ID_HEADER];
  const v = Array.isArray(h) ? h[0] : h;
  return v && GOOD_ID.test(v) ? v : newRequestId();
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
/** Fields every line has, left out of the readable form (they are the same on every line). */
const QUIET = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'instance', 'role', 'v']);

/** One JSON log line as a person reads it: "12:00:01 INFO  message  key=value", the error's stack under it. */
export function prettyLine(json: string, color = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = typeof o.level === 'number' ? o.level : 30;
  const time = typeof o.time === 'string' ? o.time.slice(11, 19) : new Date().toISOString().slice(11, 19);
  const name = LEVELS[level] ?? String(level);
  const tag = color ? `\x1b[${COLORS[level] ?? '0'}m${name}\x1b[0m` : name;
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(o)) {
    if (QUIET.has(k) || v === undefined) continue;
    if (k === 'err' && v && typeof v === 'object') {
      stack = String((v as { stack?: unknown }).stack ?? (v as { message?: unknown }).message ?? '');
      continue;
    }
    fields.push(`${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`);
  }
  return `${time} ${tag} ${String(o.msg ?? '')}${fields.length ? `  ${fields.join(' ')}` : ''}${stack ? `\n    ${stack.replace(/\n/g, '\n    ')}` : ''}\n`;
}

/** A destination writing readable lines (prettyLine) to `out`: for a terminal, never for files or collectors. */
export function prettyStream(out: NodeJS.WritableStream = process.stdout, color = true): DestinationStream {
  let rest = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line) out.write(prettyLine(line, color));
      done();
    },
  });
}

/** Readable lines when stdout is a terminal (server.logFormat auto), or when asked (pretty); JSON otherwise. */
export function wantsPrettyLogs(format: string, tty = Boolean(process.stdout.isTTY)): boolean {
  if (format === 'json') return false;
  if (format === 'pretty') return true;
  return tty;
}

export function loggerOptions(config: AsloConfig, role = 'all'): LoggerOptions & { stream?: DestinationStream } {
  return {
    ...(wantsPrettyLogs(config.server.logFormat) ? { stream: prettyStream(process.stdout, Boolean(process.stdout.isTTY)) } : {}),
    level: config.server.logLevel,
    base: { instance: config.instance, role, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: {
      paths: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]', '*.password', '*.token'],
      censor: '[redacted]',
    },
    serializers: {
      req(req: { method: string; url: string; ip?: string; id?: string; headers?: Record<string, unknown> }) {
        return { method: req.method, url: req.url, ip: req.ip, ua: req.headers?.['user-agent'] };
      },
    },
  };
}

/** A logger outside a request (start-up, workers, the cluster primary). */
export function createLogger(config: AsloConfig, role = 'all'): Logger {
  const { stream, ...opts } = loggerOptions(config, role);
  return stream ? pino(opts, stream) : pino(opts);
}

/**
 * What Fastify logs about requests: one line per request, when it is answered, at debug level
 * (method, address, status, time taken), instead of its two info lines ("incoming request",
 * "request completed"); a request that failed while its answer was sent stays an error line,
 * and every other line (errors of the stream, the serializer) is Fastify's own.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}
  /** A 404 is an ordinary answer: its request line says so. */
  override routeNotFound(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
    else request.log.debug({ status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, `${request.method} ${request.url}`);
  }
}

/**
 * Logs a repeated condition once when it starts and once when it ends (Redis gone, a replica
 * lagging), instead of once per failed call.
 */
export class OnceLogger {
  private down = new Map<string, number>();
  constructor(private readonly log: { warn(msg: string): void; info(msg: string): void }) {}

  failing(key: string, msg: string): void {
    if (this.down.has(key)) return;
    this.down.set(key, Date.now());
    this.log.warn(msg);
  }

  recovered(key: string, msg: string): void {
    const since = this.down.get(key);
    if (since === undefined) return;
    this.down.delete(key);
    this.log.info(`${msg} (after ${((Date.now() - since) / 1000).toFixed(1)} s)`);
  }

  isFailing(key: string): boolean {
    return this.down.has(key);
  }
}
