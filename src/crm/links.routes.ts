import { z } from 'zod';
import type { Router } from '../app/router.js';
import { sendPage } from '../console/layout.js';
import { LINK_PATH_PREFIX } from './links.js';
import { BadLinkPage } from './links.pages.js';
import type { LinkService } from './links.service.js';

/** GET /r/:token: the signed redirect links in outage messages. */
export function registerLinkRoutes(r: Router, links: LinkService): void {
  r.route({
    method: 'GET',
    url: `${LINK_PATH_PREFIX}:token`,
    summary: 'Follow a tracked link from an outage message',
    description:
      'The token is signed with the installation secret and names the lead, the incident, the target and an expiry (30 days). A valid link marks the lead re-engaged (first time only) and redirects (302) to its target; a forged, altered or expired link answers 400 with a page and never redirects.',
    tags: ['crm', 'public'],
    access: 'public',
    params: z.object({ token: z.string().min(1).max(4000) }),
    responses: {
      302: { description: 'Redirect to the link target' },
      400: { description: 'The link is not valid or has expired (HTML page)' },
    },
    async handler({ params, reply }) {
      const result = await links.follow(params.token);
      reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      if (!result.ok) return sendPage(reply, BadLinkPage({ expired: result.reason === 'expired' }), 400);
      return reply.redirect(result.claim.url, 302);
    },
  });
}
