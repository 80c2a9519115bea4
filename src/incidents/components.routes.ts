import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import type { ComponentService } from './components.service.js';
import { COMPONENT_KINDS, COMPONENT_STATUSES } from './incident.js';
import { componentJson, componentJsonSchema } from './incidents.views.js';

export const componentInputSchema = z.strictObject({
  name: z.string().trim().min(1, 'expected a name').max(200),
  kind: z.enum(COMPONENT_KINDS),
  group: z.string().trim().max(200).nullable().optional(),
  description: z.string().max(2000).nullable().optional(),
  position: z.number().int().min(0).max(1_000_000).optional(),
  status: z.enum(COMPONENT_STATUSES).optional(),
  only_show_if_degraded: z.boolean().optional(),
});

export function registerComponentRoutes(r: Router, components: ComponentService): void {
  r.route({
    method: 'POST',
    url: '/api/v1/components',
    summary: 'Create a component',
    tags: ['components'],
    access: 'components.write',
    body: componentInputSchema,
    responses: {
      201: { description: 'Created', schema: componentJsonSchema },
      409: { description: 'Name already used', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor, reply }) {
      const created = await components.create(actor, body);
      reply.code(201).header('location', `/api/v1/components/${created.id}`);
      return componentJson(created);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/components',
    summary: 'List components in display order',
    tags: ['components'],
    access: 'components.read',
    responses: {
      200: { description: 'Components', schema: z.object({ components: z.array(componentJsonSchema) }) },
      ...STANDARD_ERRORS,
    },
    async handler() {
      return { components: (await components.list()).map(componentJson) };
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/components/:id',
    summary: 'One component',
    tags: ['components'],
    access: 'components.read',
    params: z.object({ id: z.string() }),
    responses: {
      200: { description: 'The component', schema: componentJsonSchema },
      404: { description: 'No such component', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return componentJson(await components.get(params.id));
    },
  });

  r.route({
    method: 'PATCH',
    url: '/api/v1/components/:id',
    summary: 'Change a component (any subset of its fields)',
    tags: ['components'],
    access: 'components.write',
    params: z.object({ id: z.string() }),
    body: componentInputSchema.partial(),
    responses: {
      200: { description: 'Changed', schema: componentJsonSchema },
      404: { description: 'No such component', schema: errorBodySchema },
      409: { description: 'Name already used', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor }) {
      return componentJson(await components.update(actor, params.id, body));
    },
  });
}
