import { z } from 'zod';
import type { Router } from '../app/router.js';
import { parseInput } from '../app/validation.js';
import { sendPage } from '../console/layout.js';
import { AppError } from '../core/errors.js';
import { ComponentsPage } from './components.pages.js';
import { componentInputSchema } from './components.routes.js';
import type { ComponentService } from './components.service.js';

const form = z.record(z.string(), z.string());

export function registerComponentConsole(r: Router, components: ComponentService): void {
  r.route({
    method: 'GET',
    url: '/console/components',
    summary: 'Components page',
    tags: ['console'],
    access: 'components.read',
    page: true,
    query: z.object({ done: z.enum(['created', 'updated']).optional() }),
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler({ query, actor, reply }) {
      const notice = query.done === 'created' ? 'Component added.' : query.done === 'updated' ? 'Status changed.' : undefined;
      return sendPage(reply, ComponentsPage({ actor, components: await components.list(), ...(notice && { notice }) }));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/components',
    summary: 'Add a component from the console form',
    tags: ['console'],
    access: 'components.write',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: form,
    responses: {
      303: { description: 'Added: back to the list' },
      400: { description: 'The page again, with the problem', contentType: 'text/html' },
    },
    async handler({ body, actor, reply }) {
      const values = {
        name: body.name ?? '',
        kind: body.kind ?? '',
        group: body.group ?? '',
        description: body.description ?? '',
      };
      try {
        const input = parseInput(
          componentInputSchema,
          { name: values.name, kind: values.kind, group: values.group || null, description: values.description || null },
          'body',
        );
        await components.create(actor, input);
        return reply.redirect('/console/components?done=created', 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        const page = ComponentsPage({ actor, components: await components.list(), error: err.message, values });
        return sendPage(reply, page, err.status);
      }
    },
  });

  r.route({
    method: 'POST',
    url: '/console/components/:id',
    summary: "Change a component's status from the console",
    tags: ['console'],
    access: 'components.write',
    page: true,
    params: z.object({ id: z.string() }),
    bodyContentType: 'application/x-www-form-urlencoded',
    body: form,
    responses: { 303: { description: 'Changed: back to the list' } },
    async handler({ params, body, actor, reply }) {
      const input = parseInput(componentInputSchema.pick({ status: true }), { status: body.status }, 'body');
      await components.update(actor, params.id, input);
      return reply.redirect('/console/components?done=updated', 303);
    },
  });
}
