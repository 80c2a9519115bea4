import { z } from 'zod';
import type { Permission } from './roles.js';
import { rolesFor } from './roles.js';

export type Access = 'public' | 'signed-in' | Permission;

export interface ResponseDoc {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteDoc {
  method: string;
  url: string;
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  body?: z.ZodType;
  bodyContentType?: string;
  query?: z.ZodType;
  params?: z.ZodType;
  responses: Record<number, ResponseDoc>;
}

/** Descriptions of every route, turned into the OpenAPI document served at /api/openapi.json. */
export class OpenApiRegistry {
  readonly routes: RouteDoc[] = [];

  add(doc: RouteDoc): void {
    this.routes.push(doc);
  }

  has(method: string, url: string): boolean {
    return this.routes.some((r) => r.method === method && r.url === url);
  }

  document(info: { title: string; version: string; serverUrl: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.routes) {
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const operation: Record<string, unknown> = {
        operationId: `${route.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        summary: route.summary,
        tags: route.tags,
        responses: Object.fromEntries(
          Object.entries(route.responses).map(([code, r]) => [
            code,
            {
              description: r.description,
              ...(r.schema || r.contentType
                ? { content: { [r.contentType ?? 'application/json']: r.schema ? { schema: toSchema(r.schema, 'output') } : {} } }
                : {}),
            },
          ]),
        ),
      };
      if (route.description) operation.description = route.description;
      const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')];
      if (parameters.length > 0) operation.parameters = parameters;
      if (route.body) {
        operation.requestBody = {
          required: true,
          content: { [route.bodyContentType ?? 'application/json']: { schema: toSchema(route.body, 'input') } },
        };
      }
      if (route.access !== 'public') {
        operation.security = [{ bearerAuth: [] }, { cookieAuth: [] }];
        operation['x-keepwarm-roles'] = route.access === 'signed-in' ? 'any signed-in user' : rolesFor(route.access);
      }
      paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
    }
    return {
      openapi: '3.1.0',
      info: { title: info.title, version: info.version },
      servers: [{ url: info.serverUrl }],
      paths,
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token from `keepwarm token create`.' },
          cookieAuth: { type: 'apiKey', in: 'cookie', name: 'kw_session', description: 'Console session.' },
        },
        schemas: {
          Error: toSchema(errorBodySchema, 'output'),
        },
      },
    };
  }
}

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable machine-readable code'),
    message: z.string().describe('What went wrong and what to do, for people'),
    details: z.unknown().optional().describe('Fields at fault and other specifics'),
  }),
});

/** The error answers every authenticated JSON route may give, for route descriptions. */
export const STANDARD_ERRORS: Record<number, ResponseDoc> = {
  400: { description: 'Invalid input: every field at fault is listed', schema: errorBodySchema },
  401: { description: 'No valid credentials', schema: errorBodySchema },
  403: { description: 'Role not allowed', schema: errorBodySchema },
};

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): Array<Record<string, unknown>> {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: s,
  }));
}
