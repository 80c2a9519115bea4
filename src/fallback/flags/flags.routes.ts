import { createHash } from 'node:crypto';
import { z } from 'zod';
import { STANDARD_ERRORS } from '../../app/openapi.js';
import type { Router } from '../../app/router.js';
import { registerSdkRoute } from '../../status/banner.routes.js';
import type { FlagService } from './flags.service.js';

const flagValue = z.union([z.boolean(), z.string(), z.number(), z.record(z.string(), z.unknown())]);
const evaluation = z.object({
  key: z.string(),
  value: flagValue,
  reason: z.enum(['STATIC', 'TARGETING_MATCH', 'DEFAULT', 'DISABLED']),
  variant: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});
const ofrepFailure = z.object({ key: z.string().optional(), errorCode: z.string(), errorDetails: z.string() });
/** OFREP: an evaluation context; Keepwarm's flags do not depend on it, but it must be an object. */
const ofrepRequest = z.object({ context: z.record(z.string(), z.unknown()).optional() }).optional();

/** OFREP (OpenFeature Remote Evaluation Protocol) endpoints and the console's flag API. */
/** The showroom's flags script (reads flags.json with safe defaults). */
export const FLAGS_SDK_PATH = '/sdk/keepwarm-flags.js';

export function registerFlagRoutes(r: Router, flags: FlagService): void {
  registerSdkRoute(r, {
    path: FLAGS_SDK_PATH,
    file: 'keepwarm-flags.js',
    summary: 'The browser script a showroom embeds to read the kill switches (flags.json) with safe defaults',
    tags: ['flags', 'public'],
  });

  r.route({
    method: 'POST',
    url: '/ofrep/v1/evaluate/flags/:key',
    summary: 'OFREP: evaluate one kill switch',
    tags: ['flags'],
    access: 'public',
    params: z.object({ key: z.string().min(1).max(200) }),
    responses: {
      200: { description: 'Evaluation', schema: evaluation },
      400: { description: 'Bad context (errorCode INVALID_CONTEXT)', schema: ofrepFailure },
      404: { description: 'errorCode FLAG_NOT_FOUND', schema: ofrepFailure },
    },
    async handler({ params, req, reply }) {
      const ctx = ofrepRequest.safeParse(req.body ?? undefined);
      if (!ctx.success)
        return reply
          .code(400)
          .send({ key: params.key, errorCode: 'INVALID_CONTEXT', errorDetails: 'body.context must be a JSON object' });
      const out = await flags.evaluate(params.key);
      reply.header('cache-control', 'no-store');
      if (!out)
        return reply
          .code(404)
          .send({ key: params.key, errorCode: 'FLAG_NOT_FOUND', errorDetails: `flag ${params.key} does not exist` });
      return out;
    },
  });

  r.route({
    method: 'POST',
    url: '/ofrep/v1/evaluate/flags',
    summary: 'OFREP: evaluate every kill switch (bulk), ETag/304',
    tags: ['flags'],
    access: 'public',
    responses: {
      200: { description: 'All flags', schema: z.object({ flags: z.array(evaluation) }) },
      304: { description: 'Not modified (If-None-Match matched)' },
      400: { description: 'Bad context (errorCode INVALID_CONTEXT)', schema: ofrepFailure },
    },
    async handler({ req, reply }) {
      const ctx = ofrepRequest.safeParse(req.body ?? undefined);
      if (!ctx.success)
        return reply.code(400).send({ errorCode: 'INVALID_CONTEXT', errorDetails: 'body.context must be a JSON object' });
      const body = { flags: await flags.evaluateAll() };
      const etag = `"${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 27)}"`;
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return body;
    },
  });

  r.route({
    method: 'GET',
    url: '/flags.json',
    summary: 'The kill switches as the static flags.json published beside the mirror',
    tags: ['flags'],
    access: 'public',
    responses: { 200: { description: 'flags.json', contentType: 'application/json' } },
    async handler({ reply }) {
      // Public and read-only: any showroom page may read it (the flags SDK, web/sdk/keepwarm-flags.js).
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('access-control-allow-origin', '*');
      return reply.send(await flags.renderFlagsJson());
    },
  });

  r.route({
    method: 'PUT',
    url: '/api/v1/flags/:key/override',
    summary: 'Pin a kill switch to a value (audited), or clear the pin with value null',
    tags: ['flags'],
    access: 'components.write',
    params: z.object({ key: z.string().min(1).max(200) }),
    body: z.strictObject({ value: flagValue.nullable(), reason: z.string().trim().min(1).max(500) }),
    responses: { 200: { description: 'The flag as now evaluated', schema: evaluation }, ...STANDARD_ERRORS },
    async handler({ params, body, actor }) {
      return flags.setOverride(actor, params.key, body.value, body.reason);
    },
  });
}
