import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';

/** Console pages of the template library. (Filled in by the template-library work.) */
export function registerTemplateConsole(_r: Router, _services: Services): void {}
