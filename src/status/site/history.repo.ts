import { toDbBool } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';
import { type Component, listComponents } from '../../incidents/components.repo.js';
import * as incidents from '../../incidents/incidents.repo.js';

/** What the status page's history (uptime bars, past incidents, feeds) is made of. */
export interface HistoryData {
  components: Component[];
  /** Public incidents open now or resolved inside the window, newest first. */
  incidents: incidents.IncidentRecord[];
  incidentComponents: incidents.IncidentComponentRecord[];
  /** Their public timeline events (updates), oldest first. */
  events: incidents.TimelineEvent[];
}

/** Public incidents that touch the last `windowMs` before `now` (acknowledged ones only, like the API). */
export async function loadHistory(
  ex: Executor,
  options: { now: number; windowMs: number; includeDrills: boolean },
): Promise<HistoryData> {
  const from = options.now - options.windowMs;
  let q = ex
    .selectFrom('incidents')
    .selectAll()
    .where('acknowledged_at', 'is not', null)
    .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', from)]))
    .orderBy('declared_at', 'desc')
    .orderBy('id', 'desc')
    .limit(2000);
  if (!options.includeDrills) q = q.where('drill', '=', toDbBool(false));
  const list = (await q.execute()).map(incidents.toIncident);
  const ids = list.map((i) => i.id);
  const [components, incidentComponents, events] = await Promise.all([
    listComponents(ex),
    incidents.listIncidentComponents(ex, ids),
    incidents.listEvents(ex, ids, { publicOnly: true }),
  ]);
  return { components, incidents: list, incidentComponents, events };
}
