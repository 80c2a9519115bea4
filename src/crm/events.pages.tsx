import type { Actor } from '../app/actor.js';
import { h, type SafeHtml } from '../console/html.js';
import { Layout, Time } from '../console/layout.js';
import type { EventRow, IncidentEventSummary } from './events.repo.js';

function who(e: EventRow): string {
  return e.lead_email ?? e.email ?? (e.anonymous_id ? `anonymous ${e.anonymous_id.slice(0, 12)}` : '—');
}

/**
 * Intent events with their incident attribution: per incident, how many events fell in its window
 * and how many reached Keepwarm only after it ended (held by the SDK's buffer); then the latest
 * events, filterable by incident.
 */
export function EventsPage(props: {
  actor: Actor;
  summaries: IncidentEventSummary[];
  events: EventRow[];
  incidentId: string | null;
  limit: number;
}): SafeHtml {
  const current = props.summaries.find((s) => s.incident_id === props.incidentId);
  return (
    <Layout title="Intent events" actor={props.actor} active="/console/events">
      <h1>Intent events</h1>
      <p class="muted">
        What showroom visitors did (product views, carts, demos, forms), from the browser SDK and the events API. Each event is
        attributed to the incident whose window covers its time; drills are marked.
      </p>
      <h2>By incident</h2>
      {props.summaries.length === 0 ? (
        <p class="muted">No event has fallen inside an incident window yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Incident</th>
              <th scope="col">Window</th>
              <th scope="col">Events</th>
              <th scope="col">Delivered after it ended</th>
              <th scope="col">Matched to a lead</th>
            </tr>
          </thead>
          <tbody>
            {props.summaries.map((s) => (
              <tr data-incident={s.incident_id}>
                <td>
                  <a href={`/console/events?incident=${encodeURIComponent(s.incident_id)}`}>{s.name}</a>
                  {s.drill ? <span class="badge s-drill"> drill</span> : null} <span class="muted">({s.status})</span>
                </td>
                <td>
                  <Time at={s.started_at} /> – {s.resolved_at === null ? 'open' : <Time at={s.resolved_at} />}
                </td>
                <td data-count="events">{s.events.toLocaleString('en-US')}</td>
                <td data-count="delivered-after">{s.delivered_after.toLocaleString('en-US')}</td>
                <td data-count="matched">{s.matched.toLocaleString('en-US')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{current ? `Events during ${current.name}` : 'Latest events'}</h2>
      {current ? (
        <p>
          <a href="/console/events">Show all events</a>
        </p>
      ) : null}
      {props.events.length === 0 ? (
        <p class="muted">No events yet. Embed the SDK in the showroom (see web/sdk/README.md) or post to /api/v1/events.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Received</th>
              <th scope="col">Type</th>
              <th scope="col">Who</th>
              <th scope="col">Product / value</th>
              <th scope="col">Source</th>
              <th scope="col">Incident</th>
            </tr>
          </thead>
          <tbody>
            {props.events.map((e) => (
              <tr data-message-id={e.message_id}>
                <td>
                  <Time at={e.at} />
                </td>
                <td>
                  <Time at={e.received_at} />
                </td>
                <td>{e.type.replaceAll('_', ' ')}</td>
                <td>{who(e)}</td>
                <td>
                  {e.product ?? ''}
                  {e.value === null ? '' : `${e.product ? ' · ' : ''}$${e.value.toLocaleString('en-US')}`}
                </td>
                <td>{e.source}</td>
                <td>
                  {e.incident_id === null ? (
                    <span class="muted">—</span>
                  ) : (
                    <a href={`/console/incidents/${encodeURIComponent(e.incident_id)}`}>
                      {e.incident_name ?? e.incident_id}
                      {e.incident_drill ? ' (drill)' : ''}
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.events.length === props.limit ? (
        <p class="muted">The latest {props.limit} are shown; GET /api/v1/events pages through all of them.</p>
      ) : null}
    </Layout>
  );
}
