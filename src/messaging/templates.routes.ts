import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';

/** /api/v1/templates: the template library API. (Filled in by the template-library work.) */
export function registerTemplateRoutes(_r: Router, _services: Services): void {}
