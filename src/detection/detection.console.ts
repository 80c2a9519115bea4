import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';

/** Console: monitors, health board, detections. (Filled in by the console work.) */
export function registerDetectionConsole(_r: Router, _services: Services): void {}
