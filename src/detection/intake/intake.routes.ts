import type { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';

/** /api/v1/hooks/<source>: alerts from the monitoring a team runs. (Filled in by the intake work.) */
export function registerIntakeRoutes(_r: Router, _services: Services): void {}
