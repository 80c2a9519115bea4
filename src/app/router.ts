import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AuthService } from '../auth/auth.service.js';
import type { Actor } from './actor.js';
import type { Access, OpenApiRegistry, ResponseDoc, RouteDoc } from './openapi.js';
import { enforceAccess } from './plugins/auth.js';
import { parseInput } from './validation.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** The caller; present on every route that is not public. */
  actor: Actor;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<BS extends z.ZodType | undefined, QS extends z.ZodType | undefined, PS extends z.ZodType | undefined> {
  method: Method;
  url: string;
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  /** A console page: without a session, GET redirects to the sign-in page. */
  page?: boolean;
  body?: BS;
  bodyContentType?: string;
  query?: QS;
  params?: PS;
  responses: Record<number, ResponseDoc>;
  handler(input: RouteInput<Out<BS>, Out<QS>, Out<PS>>): Promise<unknown>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/**
 * Registers routes with their access rule, input schemas and OpenAPI description in one place,
 * so a route cannot exist without being documented and checked.
 */
export class Router {
  constructor(
    readonly app: FastifyInstance,
    readonly auth: AuthService,
    readonly openapi: OpenApiRegistry,
  ) {}

  route<
    BS extends z.ZodType | undefined = undefined,
    QS extends z.ZodType | undefined = undefined,
    PS extends z.ZodType | undefined = undefined,
  >(spec: RouteSpec<BS, QS, PS>): void {
    this.document({
      method: spec.method,
      url: spec.url,
      summary: spec.summary,
      tags: spec.tags,
      access: spec.access,
      responses: spec.responses,
      ...(spec.description && { description: spec.description }),
      ...(spec.body && { body: spec.body }),
      ...(spec.bodyContentType && { bodyContentType: spec.bodyContentType }),
      ...(spec.query && { query: spec.query }),
      ...(spec.params && { params: spec.params }),
    });
    const auth = this.auth;
    this.app.route({
      method: spec.method,
      url: spec.url,
      config: { page: spec.page === true },
      handler: async (req, reply) => {
        const outcome = await enforceAccess(auth, req, reply, spec.access, spec.page === true);
        if ('redirected' in outcome) return reply;
        const params = (spec.params ? parseInput(spec.params, req.params, 'params') : undefined) as Out<PS>;
        const query = (spec.query ? parseInput(spec.query, req.query, 'query') : undefined) as Out<QS>;
        const body = (spec.body ? parseInput(spec.body, req.body, 'body') : undefined) as Out<BS>;
        const actor = outcome.actor;
        return spec.handler({
          body,
          query,
          params,
          req,
          reply,
          get actor(): Actor {
            if (!actor) throw new Error(`route ${spec.method} ${spec.url} is public and has no actor`);
            return actor;
          },
        });
      },
    });
  }

  /** Describe a route registered directly on Fastify (hot paths, static assets). */
  document(doc: RouteDoc): void {
    this.openapi.add(doc);
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Console page: errors render as HTML. */
    page?: boolean;
  }
}
