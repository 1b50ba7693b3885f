// Every error a user or client can see carries a stable code they can search for.

export class AsloError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details?: unknown;

  constructor(code: string, message: string, opts: { statusCode?: number; details?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AsloError';
    this.code = code;
    this.statusCode = opts.statusCode ?? 400;
    this.details = opts.details;
  }
}

export function notFound(code: string, message: string): AsloError {
  return new AsloError(code, message, { statusCode: 404 });
}

export function isAsloError(err: unknown): err is AsloError {
  return err instanceof AsloError;
}
