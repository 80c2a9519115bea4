import { z } from 'zod';
import type { Router } from '../../app/router.js';
import type { StatusPublisher } from './publisher.js';

const publicationSchema = z.object({
  target: z.string(),
  type: z.enum(['folder', 's3']),
  revision: z.string().nullable(),
  current: z.boolean(),
  published_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  files: z.number().nullable(),
  error: z.string().nullable(),
  attempted_at: z.string().nullable(),
  publishing: z.boolean(),
});

export function registerPublishRoutes(r: Router, publisher: StatusPublisher): void {
  r.route({
    method: 'GET',
    url: '/api/v1/status/publications',
    summary: 'Static status targets: the revision each shows, when and how fast it was published, the last error',
    tags: ['status'],
    access: 'publications.read',
    responses: {
      200: { description: 'One entry per configured target', schema: z.object({ publications: z.array(publicationSchema) }) },
    },
    handler: async () => ({ publications: await publisher.publications() }),
  });
}
