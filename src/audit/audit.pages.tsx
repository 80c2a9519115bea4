import type { Actor } from '../app/actor.js';
import { h, type SafeHtml } from '../console/html.js';
import { Layout, Time } from '../console/layout.js';
import type { AuditEntry } from './audit.repo.js';

export function AuditPage({ actor, entries }: { actor: Actor; entries: AuditEntry[] }): SafeHtml {
  const last = entries[entries.length - 1];
  return (
    <Layout title="Audit log" actor={actor} active="/console/audit">
      <h1>Audit log</h1>
      <p class="muted">Every change, who made it and from where. Entries cannot be edited or deleted.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr>
              <td>
                <Time at={e.at} />
              </td>
              <td>
                {e.actor.type}
                {e.actor.role ? ` (${e.actor.role})` : ''}
                <div class="muted">{e.actor.id ?? ''}</div>
              </td>
              <td>{e.action}</td>
              <td>{e.target ? `${e.target.type} ${e.target.id}` : '—'}</td>
              <td>{e.ip ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {last && entries.length >= 100 ? (
        <p>
          <a href={`/console/audit?before=${encodeURIComponent(last.id)}`}>Older entries</a>
        </p>
      ) : null}
    </Layout>
  );
}
