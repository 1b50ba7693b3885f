// JSON logs (pino): one object per line on stdout, with the instance, the role and the process
// id in every line, and the request id (`reqId`) in every line written while serving a request.
//
// The request id comes from the X-Request-Id header when the balancer sets one (deploy/nginx
// passes nginx's $request_id), so one id follows a request from the balancer's access log to
// the application's lines; otherwise it is made here. Every answer carries it back in
// X-Request-Id.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino, { type Logger, type LoggerOptions } from 'pino';
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

export function loggerOptions(config: AsloConfig, role = 'all'): LoggerOptions {
  return {
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
  return pino(loggerOptions(config, role));
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
