import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../../app/openapi.js';
import type { Router } from '../../app/router.js';
import type { CadenceService } from './cadence.service.js';

const dueKind = z.enum(['acknowledge', 'target', 'promise']);

export const cadenceViewSchema = z.object({
  incident_id: z.string(),
  open: z.boolean(),
  acknowledge_by: z.string().describe('Declaration + acknowledgeMinutes'),
  acknowledged_at: z.string().nullable().describe('The first public update'),
  acknowledged_in_time: z.boolean().nullable(),
  last_update_at: z.string().nullable(),
  next_update_due_at: z.string().nullable().describe("The team's target for the next public update"),
  promised_by: z.string().nullable().describe('The public promise for the next update (what the banner and status page say)'),
  overdue: z.boolean(),
  holding_updates: z.boolean(),
  reminders: z.array(z.object({ at: z.string(), due: dueKind, due_at: z.string() })).describe('Reminders still to come'),
  deadline: z
    .object({ at: z.string(), due: dueKind })
    .nullable()
    .describe('When the cadence escalates or publishes a holding update'),
  figures: z.object({
    ack_seconds: z.number().nullable(),
    longest_gap_seconds: z.number().nullable(),
    late_updates: z.number().describe('Gaps between public updates longer than the promise (the open gap counts once past it)'),
  }),
});

export function registerCadenceRoutes(r: Router, cadence: CadenceService): void {
  r.route({
    method: 'GET',
    url: '/api/v1/incidents/:id/cadence',
    summary: "An incident's update cadence: deadlines, reminders and figures",
    description:
      'Acknowledgement deadline, the next update due (team target) and promised (public), the reminders still to come, and the figures: acknowledgement time, longest gap between public updates, late updates.',
    tags: ['incidents', 'status'],
    access: 'incidents.read',
    params: z.object({ id: z.string().min(1) }),
    responses: {
      200: { description: 'Cadence', schema: cadenceViewSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return cadence.forIncident(params.id);
    },
  });
}
