import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../core/errors.js';
import { findJsonErrorOffset, lineAndColumn } from '../../core/json-error.js';

export const BODY_LIMIT = 1024 * 1024;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export type HtmlErrorRenderer = (req: FastifyRequest, status: number, message: string) => string;

function parseJsonBody(req: FastifyRequest, text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    if (text.includes('__proto__') || text.includes('constructor')) rejectPrototypeKeys(value, req);
    return value;
  } catch (err) {
    if (err instanceof AppError) throw err;
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    const position = findJsonErrorOffset(text);
    const where = position === null ? null : lineAndColumn(text, position);
    throw new AppError(
      400,
      'malformed_json',
      `The body of ${req.method} ${req.url.split('?')[0]} is not valid JSON${where ? ` (line ${where.line}, column ${where.column})` : ''}: ${reason}`,
      { path: req.url.split('?')[0] ?? req.url, ...(position !== null && where && { position, ...where }) },
    );
  }
}

function rejectPrototypeKeys(value: unknown, req: FastifyRequest): void {
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    for (const key of Object.keys(node)) {
      if (key === '__proto__' || (key === 'constructor' && typeof (node as Record<string, unknown>)[key] === 'object')) {
        throw new AppError(
          400,
          'malformed_json',
          `The body of ${req.method} ${req.url.split('?')[0]} uses the reserved key "${key}".`,
          {
            path: req.url.split('?')[0],
            key,
          },
        );
      }
      stack.push((node as Record<string, unknown>)[key]);
    }
  }
}

/** JSON parsing, error mapping and not-found handling: one error shape everywhere. */
export function registerErrorHandling(app: FastifyInstance, renderHtml: HtmlErrorRenderer): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, (req, body, done) => {
    try {
      done(null, parseJsonBody(req, body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  const send = (req: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody, headers?: Record<string, string>) => {
    if (headers) reply.headers(headers);
    reply.code(status);
    const wantsHtml = (req.headers.accept ?? '').includes('text/html');
    if (wantsHtml && (req.routeOptions.config?.page || !req.url.startsWith('/api'))) {
      return reply.type('text/html; charset=utf-8').send(renderHtml(req, status, body.error.message));
    }
    return reply.type('application/json; charset=utf-8').send(body);
  };

  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    if (err instanceof AppError) {
      return send(
        req,
        reply,
        err.status,
        { error: { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) } },
        err.headers,
      );
    }
    const fe = err as FastifyError;
    const status = fe.statusCode ?? 500;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
      return send(req, reply, 413, {
        error: {
          code: 'payload_too_large',
          message: `The request body is larger than the limit of ${BODY_LIMIT} bytes (1 MiB).`,
          details: { limit_bytes: BODY_LIMIT },
        },
      });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
      return send(req, reply, 415, {
        error: {
          code: 'unsupported_media_type',
          message: `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')} is not accepted here; send application/json.`,
        },
      });
    }
    if (status >= 400 && status < 500) {
      return send(req, reply, status, {
        error: { code: (fe.code ?? 'bad_request').toLowerCase(), message: fe.message },
      });
    }
    req.log.error({ err }, 'unexpected error');
    return send(req, reply, 500, {
      error: {
        code: 'internal_error',
        message: `Something went wrong on Keepwarm's side. The request id is ${req.id}; the logs have the details.`,
        details: { request_id: req.id },
      },
    });
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    return send(req, reply, 404, {
      error: { code: 'route_not_found', message: `There is no ${req.method} ${path}.`, details: { method: req.method, path } },
    });
  });
}
