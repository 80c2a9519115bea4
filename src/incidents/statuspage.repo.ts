import { newId } from '../core/ids.js';
import type { Executor } from '../db/database.js';
import { ensureSetting, getSetting, putSetting } from '../db/settings.repo.js';
import { enqueueStatusPublish } from '../status/publish/trigger.js';
import { type Component, listComponents } from './components.repo.js';
import * as incidents from './incidents.repo.js';

const REVISION = 'public_revision';

/**
 * Record, inside the changing transaction, that what the public surfaces show has changed.
 * Every process serving them compares this revision to the one it rendered.
 */
export async function bumpPublicRevision(ex: Executor, now: number): Promise<void> {
  const revision = newId(now);
  await putSetting(ex, REVISION, revision, now);
  // The static targets (status site, feeds, JSON, banner) follow in the same commit.
  await enqueueStatusPublish(ex, now, revision);
}

export async function readPublicRevision(ex: Executor): Promise<string> {
  return (await getSetting(ex, REVISION)) ?? 'initial';
}

export interface PublicData {
  revision: string;
  revisionAt: number;
  pageId: string;
  components: Component[];
  incidents: incidents.IncidentRecord[];
  incidentComponents: incidents.IncidentComponentRecord[];
  events: incidents.TimelineEvent[];
}

/** Everything the Statuspage-compatible documents are made of, read in one go. */
export async function loadPublicData(
  ex: Executor,
  options: { includeDrills: boolean; recent: number; now: number },
): Promise<PublicData> {
  const pageId = await ensureSetting(ex, 'page_id', () => newId(options.now), options.now);
  const revisionRow = await ex
    .selectFrom('settings')
    .select(['value', 'updated_at'])
    .where('key', '=', REVISION)
    .executeTakeFirst();
  const components = await listComponents(ex);
  const filter = { acknowledgedOnly: true, ...(options.includeDrills ? {} : { includeDrills: false }) };
  const [recent, open] = await Promise.all([
    incidents.listIncidents(ex, { ...filter, limit: options.recent }),
    incidents.listIncidents(ex, { ...filter, open: true, limit: 1000 }),
  ]);
  const byId = new Map([...recent, ...open].map((i) => [i.id, i]));
  const all = [...byId.values()].sort((a, b) => b.declaredAt - a.declaredAt || (a.id < b.id ? 1 : -1));
  const ids = all.map((i) => i.id);
  const [incidentComponents, events] = await Promise.all([
    incidents.listIncidentComponents(ex, ids),
    incidents.listEvents(ex, ids, { publicOnly: true }),
  ]);
  return {
    revision: revisionRow?.value ?? 'initial',
    revisionAt: revisionRow?.updated_at ?? 0,
    pageId,
    components,
    incidents: all,
    incidentComponents,
    events,
  };
}
