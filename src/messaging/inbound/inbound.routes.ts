import type { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';

/** Inbound webhooks (Twilio SMS and status callbacks) and unsubscribe pages. (Filled in by the inbound work.) */
export function registerInboundRoutes(_r: Router, _services: Services): void {}
