import { z } from 'zod';
import { errorBodySchema } from '../../app/openapi.js';
import { Router } from '../../app/router.js';
import type { Clock } from '../../core/clock.js';
import { tooManyRequests } from '../../core/errors.js';
import { RateLimiter } from '../../core/rate-limit.js';
import type { ConversationService } from './conversations.service.js';

export const CHAT_PATH = '/api/v1/chat/messages';

const chatBody = z.strictObject({
  session: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,128}$/, 'expected the widget session id: 8 to 128 letters, digits, "-" or "_"')
    .describe('The chat widget session id'),
  text: z.string().trim().min(1, 'expected a message').max(1000).describe('What the visitor typed'),
  email: z.email('expected an email address').max(320).optional().describe('The visitor, when they gave their email'),
});

const chatAnswer = z.object({
  reply: z.string(),
  choice: z.enum(['specs', 'booking', 'comparison', 'person', 'menu']),
  state: z.string(),
  identified: z.boolean(),
});

/** The chat widget's fallback conversation (public; rate-limited per session and per client IP). */
export function registerConversationRoutes(
  r: Router,
  conversations: ConversationService,
  clock: Clock,
  limits: { perSessionPerMinute?: number; perIpPerMinute?: number } = {},
  /** Origins whose pages (the fallback mirror) may call the menu from a script (CORS). */
  origins: ReadonlySet<string> = new Set(),
): void {
  r.app.register(async (scope) => {
    scope.addHook('onRequest', async (req, reply) => {
      reply.header('vary', 'Origin');
      const origin = req.headers.origin;
      if (origin !== undefined && origins.has(origin)) reply.header('access-control-allow-origin', origin);
    });
    scope.options(CHAT_PATH, async (req, reply) => {
      const origin = req.headers.origin;
      if (origin === undefined || !origins.has(origin)) return reply.code(403).send();
      return reply
        .code(204)
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'Content-Type')
        .header('access-control-max-age', '7200')
        .send();
    });
    registerChat(new Router(scope, r.auth, r.openapi), conversations, clock, limits);
  });
  r.document({
    method: 'OPTIONS',
    url: CHAT_PATH,
    summary: 'CORS preflight for the chat menu called from the fallback mirror',
    description: 'Origins in fallback.orderOrigins (the mirror hosts, exact match) are allowed; others get 403.',
    tags: ['crm', 'public'],
    access: 'public',
    responses: { 204: { description: 'Preflight answered' }, 403: { description: 'Origin not allowed' } },
  });
}

function registerChat(
  r: Router,
  conversations: ConversationService,
  clock: Clock,
  limits: { perSessionPerMinute?: number; perIpPerMinute?: number },
): void {
  const perSession = new RateLimiter({ capacity: limits.perSessionPerMinute ?? 20, perMs: 60_000, clock });
  const perIp = new RateLimiter({ capacity: limits.perIpPerMinute ?? 120, perMs: 60_000, clock });
  r.route({
    method: 'POST',
    url: CHAT_PATH,
    summary: 'Send a chat message to the outage menu (the showroom chat widget)',
    description:
      'Body: session (the widget session id), text, email (optional: identifies a lead). The first message gets the menu (1 spec sheets, 2 book a demo, 3 comparison); a number gets its link. A known lead who picks an option or writes free text is marked re-engaged and their outage sequences stop; a booking request or free text gives their owner a follow-up task. At most 20 messages a minute per session (429 with Retry-After).',
    tags: ['crm', 'public'],
    access: 'public',
    body: chatBody,
    responses: {
      200: { description: 'The answer to show', schema: chatAnswer },
      400: { description: 'A field is not valid (named in the message)', schema: errorBodySchema },
      429: { description: 'Too many messages from this session or client', schema: errorBodySchema },
    },
    async handler({ body, req }) {
      for (const [limiter, key] of [
        [perSession, body.session],
        [perIp, req.ip],
      ] as const) {
        const decision = limiter.take(key);
        if (!decision.ok) {
          throw tooManyRequests('Too many chat messages: wait a moment.', Math.ceil(decision.retryAfterMs / 1000));
        }
      }
      return conversations.chat({ session: body.session, text: body.text, email: body.email });
    },
  });
}
