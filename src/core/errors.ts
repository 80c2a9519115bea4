/**
 * Error taxonomy. Every error that reaches an HTTP client or a CLI user is an AppError with a
 * stable string code. User errors are 4xx and not reported; transient errors are retried by
 * jobs; anything else is unexpected (500, logged with the request id).
 */
export type ErrorDetails = Record<string, unknown> | Array<Record<string, unknown>>;

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetails | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, code: string, message: string, details?: ErrorDetails, headers?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }
}

export const badRequest = (code: string, message: string, details?: ErrorDetails) => new AppError(400, code, message, details);
export const unauthorized = (message = 'Sign in or send an API token (Authorization: Bearer …).') =>
  new AppError(401, 'unauthenticated', message);
export const forbidden = (code: string, message: string) => new AppError(403, code, message);
export const notFound = (what: string, id: string) =>
  new AppError(404, 'not_found', `${what} ${JSON.stringify(id)} does not exist.`, { [what.toLowerCase()]: id });
export const conflict = (code: string, message: string, details?: ErrorDetails) => new AppError(409, code, message, details);
export const unprocessable = (code: string, message: string, details?: ErrorDetails) => new AppError(422, code, message, details);
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new AppError(
    429,
    'rate_limited',
    message,
    { retry_after_seconds: retryAfterSeconds },
    {
      'retry-after': String(retryAfterSeconds),
    },
  );

/** A failure worth retrying later (provider down, timeout, lock contention). */
export class TransientError extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number | undefined }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TransientError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** A failure that retrying cannot fix (bad recipient, rejected payload). Jobs go dead at once. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PermanentError';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
