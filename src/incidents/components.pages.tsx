import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import { h, type SafeHtml } from '../console/html.js';
import { Badge, CsrfField, Layout, Notice } from '../console/layout.js';
import type { Component } from './components.repo.js';
import { COMPONENT_KINDS, COMPONENT_STATUS_LABELS, COMPONENT_STATUSES, outageChannel } from './incident.js';

export function ComponentsPage(props: {
  actor: Actor;
  components: Component[];
  error?: string;
  notice?: string;
  values?: { name?: string; kind?: string; group?: string; description?: string };
}): SafeHtml {
  const { actor } = props;
  const writable = can(actor.role, 'components.write');
  const v = props.values ?? {};
  return (
    <Layout title="Components" actor={actor} active="/console/components">
      <h1>Components</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      <p class="muted">The parts of the showroom that can fail, as the status page shows them.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Component</th>
            <th scope="col">Kind</th>
            <th scope="col">Group</th>
            <th scope="col">Status</th>
            {writable ? <th scope="col">Set status</th> : null}
          </tr>
        </thead>
        <tbody>
          {props.components.map((c) => (
            <tr>
              <td>
                {c.name}
                {c.description ? <div class="muted">{c.description}</div> : null}
              </td>
              <td>
                {c.kind} <span class="muted">({outageChannel(c.kind)})</span>
              </td>
              <td>{c.group ?? '—'}</td>
              <td>
                <Badge value={c.status} label={COMPONENT_STATUS_LABELS[c.status]} />
              </td>
              {writable ? (
                <td>
                  <form method="post" action={`/console/components/${c.id}`} class="row">
                    <CsrfField actor={actor} />
                    <select name="status" aria-label={`Status of ${c.name}`}>
                      {COMPONENT_STATUSES.map((s) => (
                        <option value={s} selected={c.status === s}>
                          {COMPONENT_STATUS_LABELS[s]}
                        </option>
                      ))}
                    </select>
                    <button type="submit" class="secondary">
                      Set
                    </button>
                  </form>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {writable ? (
        <form method="post" action="/console/components" class="panel spaced">
          <h2>Add a component</h2>
          <CsrfField actor={actor} />
          <div class="row">
            <div>
              <label for="c-name">Name</label>
              <input id="c-name" name="name" type="text" required maxlength="200" value={v.name ?? ''} />
            </div>
            <div>
              <label for="c-kind">Kind</label>
              <select id="c-kind" name="kind">
                {COMPONENT_KINDS.map((k) => (
                  <option value={k} selected={v.kind === k}>
                    {k}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="c-group">Group</label>
              <input id="c-group" name="group" type="text" maxlength="200" value={v.group ?? ''} />
            </div>
          </div>
          <label for="c-description">Description</label>
          <input id="c-description" name="description" type="text" maxlength="2000" value={v.description ?? ''} />
          <div class="actions">
            <button type="submit">Add component</button>
          </div>
        </form>
      ) : null}
    </Layout>
  );
}
