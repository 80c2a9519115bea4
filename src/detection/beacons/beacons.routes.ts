import type { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';

/** POST /api/v1/beacons: browser error beacons. (Filled in by the beacons work.) */
export function registerBeaconRoutes(_r: Router, _services: Services): void {}
