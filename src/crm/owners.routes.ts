import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { findUserById } from '../auth/auth.repo.js';
import type { Clock } from '../core/clock.js';
import { forbidden, notFound } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { DEFAULT_WORKING_HOURS, type OwnerProfile, ownerProfileInputSchema, workingHoursSchema } from './owners.js';
import { findOwnerProfile, upsertOwnerProfile } from './owners.repo.js';

const profileSchema = z.object({
  user_id: z.string(),
  name: z.string(),
  role: z.string(),
  phone: z.string().nullable(),
  calendar_link: z.string().nullable(),
  timezone: z.string(),
  working_hours: workingHoursSchema,
});

/** Owner profiles: how to reach a sales user and when they work (used for task assignment). */
export function registerOwnerRoutes(r: Router, deps: { db: Database; clock: Clock }): void {
  const load = async (userId: string) => {
    const user = await findUserById(deps.db.kysely, userId);
    if (!user) throw notFound('user', userId);
    const profile: OwnerProfile = (await findOwnerProfile(deps.db.kysely, userId)) ?? {
      user_id: userId,
      phone: null,
      calendar_link: null,
      timezone: 'UTC',
      working_hours: DEFAULT_WORKING_HOURS,
    };
    return { ...profile, name: user.name, role: user.role };
  };

  r.route({
    method: 'GET',
    url: '/api/v1/owners/:userId',
    summary: "An owner's profile: phone, calendar link, time zone, working hours",
    tags: ['crm'],
    access: 'owners.read',
    params: z.object({ userId: z.string().min(1) }),
    responses: {
      200: { description: 'The profile (defaults when never set)', schema: profileSchema },
      404: { description: 'No such user', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return load(params.userId);
    },
  });

  r.route({
    method: 'PUT',
    url: '/api/v1/owners/:userId',
    summary: "Set an owner's profile",
    description: 'Sales users may only set their own; fields left out keep their value.',
    tags: ['crm'],
    access: 'owners.write',
    params: z.object({ userId: z.string().min(1) }),
    body: ownerProfileInputSchema,
    responses: {
      200: { description: 'The profile', schema: profileSchema },
      404: { description: 'No such user', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor }) {
      if (actor.role === 'sales' && !(actor.type === 'user' && actor.id === params.userId)) {
        throw forbidden('own_profile_only', 'Sales users may only change their own owner profile.');
      }
      const current = await load(params.userId);
      const next: OwnerProfile = {
        user_id: params.userId,
        phone: body.phone === undefined ? current.phone : body.phone,
        calendar_link: body.calendar_link === undefined ? current.calendar_link : body.calendar_link,
        timezone: body.timezone ?? current.timezone,
        working_hours: body.working_hours ?? current.working_hours,
      };
      await deps.db.tx((trx) => upsertOwnerProfile(trx, next, deps.clock.now()));
      return load(params.userId);
    },
  });
}
