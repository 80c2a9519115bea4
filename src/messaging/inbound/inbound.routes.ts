import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorBodySchema } from '../../app/openapi.js';
import { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';
import { sendPage } from '../../console/layout.js';
import { AppError } from '../../core/errors.js';
import { isSuppressed } from '../suppressions.repo.js';
import { readUnsubscribeToken } from '../unsubscribe.js';
import { type ConversationHandler, RecordingConversationHandler } from './conversation.js';
import { InboundService } from './inbound.service.js';
import type { TwilioParams } from './twilio-signature.js';
import { verifyTwilioSignature } from './twilio-signature.js';
import { DrillLinkPage, InvalidLinkPage, maskAddress, UnsubscribedPage, UnsubscribePage } from './unsubscribe.pages.js';

export const TWILIO_INBOUND_PATH = '/api/v1/hooks/twilio/inbound';
export const TWILIO_STATUS_PATH = '/api/v1/hooks/twilio/status';

/** Empty TwiML: Twilio sends nothing itself (replies go through the outbox). */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const FORM = 'application/x-www-form-urlencoded';

/** Request parameters as Twilio signed them: form fields (a repeated name → array), strings only. */
export function twilioParamsOf(body: unknown): TwilioParams {
  const out: Record<string, string | string[]> = Object.create(null);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return out;
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string') out[name] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[name] = String(value);
    else if (Array.isArray(value)) out[name] = value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
    else if (value !== null && value !== undefined) out[name] = JSON.stringify(value);
  }
  return out;
}

function jsonOrUndefined(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The signature decides first; a signed body that is not JSON then fails the body schema (400).
    return undefined;
  }
}

/**
 * multipart/form-data fields (RFC 7578), text only: enough for an RFC 8058 one-click POST.
 * Anything unreadable yields no fields rather than an error.
 */
export function parseMultipartFields(contentType: string, body: string): Record<string, string> {
  const fields: Record<string, string> = Object.create(null);
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) return fields;
  const parts = body.split(`--${marker}`);
  for (const part of parts.slice(1, 51)) {
    if (part.startsWith('--')) break;
    const split = /\r?\n\r?\n/.exec(part);
    if (!split) continue;
    const headers = part.slice(0, split.index);
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined || /content-disposition:[^\r\n]*\bfilename=/i.test(headers)) continue;
    fields[name] = part.slice(split.index + split[0].length).replace(/\r?\n$/, '');
  }
  return fields;
}

const inboundBody = z.looseObject({
  MessageSid: z.string().min(1).describe('Twilio message SID (SM…/MM…): one inbound message, stable across retries'),
  From: z.string().min(1).describe('Sender, E.164'),
  To: z.string().min(1).describe('The Keepwarm number it was sent to'),
  Body: z.string().default('').describe('The text'),
  NumMedia: z.coerce.number().int().min(0).default(0).describe('MMS attachments (MediaUrl0…)'),
});

const statusBody = z.looseObject({
  MessageSid: z.string().min(1).describe('The message Keepwarm sent (its provider message id)'),
  MessageStatus: z.string().min(1).describe('queued, sending, sent, delivered, undelivered, failed, read, …'),
  ErrorCode: z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .optional()
    .describe('Twilio error code, e.g. 30003'),
  ErrorMessage: z.string().optional(),
});

const hookResponses = {
  200: { description: 'Accepted: empty TwiML (Twilio sends nothing itself)', contentType: 'text/xml' },
  400: { description: 'Signed, but not a Twilio webhook of this kind', schema: errorBodySchema },
  403: { description: 'X-Twilio-Signature missing or wrong', schema: errorBodySchema },
  503: { description: 'twilio.authToken is not configured', schema: errorBodySchema },
};

const tokenParams = z.object({ token: z.string().min(1).max(4000) });

const unsubscribeBody = z
  .looseObject({
    'List-Unsubscribe': z.string().optional().describe('RFC 8058 one-click: "One-Click"'),
    via: z.string().optional().describe('"page": the button on the unsubscribe page'),
  })
  .optional();

function sendTwiml(reply: FastifyReply): FastifyReply {
  return reply.code(200).type('text/xml; charset=utf-8').send(EMPTY_TWIML);
}

/**
 * Twilio webhooks in a scope of their own: the JSON parser keeps the raw body (bodySHA256), and a
 * preHandler verifies X-Twilio-Signature before anything else reads the request.
 */
function registerTwilioHooks(scope: FastifyInstance, r: Router, services: Services, inbound: InboundService): void {
  const rawBodies = new WeakMap<FastifyRequest, string>();
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    rawBodies.set(req, body as string);
    done(null, jsonOrUndefined(body as string));
  });

  scope.addHook('preHandler', async (req) => {
    const authToken = services.config.twilio.authToken;
    if (!authToken) {
      throw new AppError(
        503,
        'not_configured',
        'Twilio webhooks are not set up: set twilio.authToken (KEEPWARM_TWILIO_AUTH_TOKEN) so Keepwarm can verify X-Twilio-Signature.',
        { setting: 'twilio.authToken' },
      );
    }
    // The URL Twilio called is the public one (a proxy may sit in front): never the Host header.
    const url = `${services.config.publicUrl}${req.url}`;
    const header = req.headers['x-twilio-signature'];
    const signature = typeof header === 'string' ? header : undefined;
    const rawBody = rawBodies.get(req);
    let ok: boolean;
    if (rawBody !== undefined) {
      // A JSON body is only covered by the signature through bodySHA256 in the URL.
      ok = /[?&]bodySHA256=/.test(req.url) && verifyTwilioSignature({ authToken, url, signature, rawBody });
    } else {
      ok = verifyTwilioSignature({ authToken, url, signature, params: twilioParamsOf(req.body) });
    }
    if (!ok) {
      throw new AppError(
        403,
        'invalid_signature',
        `X-Twilio-Signature is ${signature ? 'not valid' : 'missing'} for ${url}. Check twilio.authToken, and that publicUrl is the address Twilio calls.`,
        { url },
      );
    }
  });

  const router = new Router(scope, r.auth, r.openapi);
  router.route({
    method: 'POST',
    url: TWILIO_INBOUND_PATH,
    summary: 'Twilio inbound SMS webhook: STOP/START/HELP keywords, then the conversation handler',
    description:
      'Verified with X-Twilio-Signature (signed URL = publicUrl + path and query). Each MessageSid is recorded once; a retried webhook does nothing again. STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT suppress the sender and queue sms.stop_confirmation; START, YES, UNSTOP lift a suppression (and queue sms.start_confirmation when approved); HELP, INFO queue sms.help. Answers empty TwiML.',
    tags: ['messaging', 'webhooks'],
    access: 'public',
    body: inboundBody,
    bodyContentType: FORM,
    responses: hookResponses,
    async handler({ body, req, reply }) {
      await inbound.receiveSms({
        messageSid: body.MessageSid,
        from: body.From,
        to: body.To,
        body: body.Body,
        numMedia: body.NumMedia,
        params: twilioParamsOf(req.body),
      });
      return sendTwiml(reply);
    },
  });

  router.route({
    method: 'POST',
    url: TWILIO_STATUS_PATH,
    summary: 'Twilio message status callback: delivery reports, idempotent and order-tolerant',
    description:
      'Verified with X-Twilio-Signature. Only forward moves are applied (a late "sent" after "delivered" is ignored); ErrorCode becomes the status reason; 21610 also suppresses the number. An unknown MessageSid is answered 200 (nothing to do).',
    tags: ['messaging', 'webhooks'],
    access: 'public',
    body: statusBody,
    bodyContentType: FORM,
    responses: hookResponses,
    async handler({ body, reply }) {
      await inbound.applyStatus({
        messageSid: body.MessageSid,
        status: body.MessageStatus,
        errorCode: body.ErrorCode,
        errorMessage: body.ErrorMessage,
      });
      return sendTwiml(reply);
    },
  });
}

/** The one-click unsubscribe link (RFC 8058): public, no cookies, no CSRF token, idempotent. */
function registerUnsubscribe(scope: FastifyInstance, r: Router, services: Services, inbound: InboundService): void {
  // Mail receivers may POST the one-click body as multipart/form-data (RFC 8058 section 3.1).
  scope.addContentTypeParser('multipart/form-data', { parseAs: 'string' }, (req, body, done) => {
    done(null, parseMultipartFields(req.headers['content-type'] ?? '', body as string));
  });

  const router = new Router(scope, r.auth, r.openapi);
  const html = { description: 'HTML page', contentType: 'text/html' };
  const claimOf = async (token: string) => readUnsubscribeToken(await services.secret.get(), token);
  // The address the link itself was built on (publicUrl may carry a path prefix behind a proxy).
  const actionOf = (token: string) => `${services.config.publicUrl}/u/${encodeURIComponent(token)}`;

  router.route({
    method: 'GET',
    url: '/u/:token',
    summary: 'Unsubscribe page: the address (masked) and one button',
    description: 'Opening the link changes nothing (mail scanners fetch links); the button POSTs to the same URL.',
    tags: ['messaging', 'public'],
    access: 'public',
    params: tokenParams,
    responses: { 200: html, 400: { description: 'The link is not valid (HTML page)', contentType: 'text/html' } },
    async handler({ params, reply }) {
      const claim = await claimOf(params.token);
      if (!claim) return sendPage(reply, InvalidLinkPage(), 400);
      if (claim.d) return sendPage(reply, DrillLinkPage({ channel: claim.c, masked: maskAddress(claim.c, claim.a) }));
      const already = await isSuppressed(services.db.kysely, claim.c, claim.a);
      return sendPage(
        reply,
        UnsubscribePage({ action: actionOf(params.token), channel: claim.c, masked: maskAddress(claim.c, claim.a), already }),
      );
    },
  });

  router.route({
    method: 'POST',
    url: '/u/:token',
    summary: 'Unsubscribe: RFC 8058 one-click (List-Unsubscribe=One-Click) or the page button',
    description:
      'Public and idempotent: the signed token is the authority (one-click requests carry no cookies). One-click answers a plain 200; the page button answers a confirmation page.',
    tags: ['messaging', 'public'],
    access: 'public',
    params: tokenParams,
    body: unsubscribeBody,
    bodyContentType: FORM,
    responses: {
      200: { description: 'Unsubscribed (or already was): text for one-click, a page for the button' },
      400: { description: 'The link is not valid, or the body is neither one-click nor the page form', contentType: 'text/html' },
    },
    async handler({ params, body, reply }) {
      const claim = await claimOf(params.token);
      if (!claim) return sendPage(reply, InvalidLinkPage(), 400);
      const oneClick = body?.['List-Unsubscribe']?.trim().toLowerCase() === 'one-click';
      const fromPage = body?.via === 'page';
      const masked = maskAddress(claim.c, claim.a);
      if (claim.d) {
        if (oneClick)
          return reply
            .code(200)
            .type('text/plain; charset=utf-8')
            .header('cache-control', 'no-store')
            .send('Drill message: nothing was changed.\n');
        return sendPage(reply, DrillLinkPage({ channel: claim.c, masked }));
      }
      if (!oneClick && !fromPage) {
        const already = await isSuppressed(services.db.kysely, claim.c, claim.a);
        return sendPage(
          reply,
          UnsubscribePage({
            action: actionOf(params.token),
            channel: claim.c,
            masked,
            already,
            error: 'Nothing was changed: use the button below to unsubscribe.',
          }),
          400,
        );
      }
      await inbound.unsubscribe(claim, oneClick ? 'one-click' : 'page');
      if (oneClick)
        return reply.code(200).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('Unsubscribed.\n');
      return sendPage(reply, UnsubscribedPage({ channel: claim.c, masked }));
    },
  });
}

/**
 * Inbound webhooks (Twilio SMS and status callbacks) and the unsubscribe pages, each in a plugin
 * scope of its own so their body parsers never touch other routes. `conversation` answers SMS that
 * are not keywords (default: record only; the CRM's handler replaces it).
 */
export function registerInboundRoutes(r: Router, services: Services, options: { conversation?: ConversationHandler } = {}): void {
  const inbound = new InboundService({
    db: services.db,
    clock: services.clock,
    bus: services.bus,
    log: services.log,
    outbox: services.outbox,
    conversation: options.conversation ?? new RecordingConversationHandler(),
  });
  r.app.register(async (scope) => registerTwilioHooks(scope, r, services, inbound));
  r.app.register(async (scope) => registerUnsubscribe(scope, r, services, inbound));
}
