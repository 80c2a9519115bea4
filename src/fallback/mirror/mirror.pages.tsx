import type { Actor } from '../../app/actor.js';
import { can } from '../../app/roles.js';
import type { SnapshotSummary } from '../../catalog/snapshots.service.js';
import { type Child, Fragment, h, type SafeHtml } from '../../console/html.js';
import { Badge, CsrfField, Layout, Notice } from '../../console/layout.js';
import type { FlagEvaluation } from '../flags/flags.js';
import type { BuildView } from './mirror.service.js';

const kb = (bytes: number | null) =>
  bytes === null ? '—' : bytes >= 1_048_576 ? `${(bytes / 1_048_576).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`;
const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : '—');

function Builds(props: { builds: readonly BuildView[] }): SafeHtml {
  if (props.builds.length === 0) return <p>No build yet: import a catalog, or build now.</p>;
  return (
    <table>
      <caption>Builds and publishes, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Started (UTC)</th>
          <th scope="col">Trigger</th>
          <th scope="col">Files</th>
          <th scope="col">Rendered</th>
          <th scope="col">Took</th>
          <th scope="col">Published to</th>
        </tr>
      </thead>
      <tbody>
        {props.builds.map((b) => (
          <tr data-build={b.id}>
            <td>{when(b.started_at)}</td>
            <td>
              {b.trigger}
              {b.full ? ' (full)' : ''}
            </td>
            <td>{b.files ?? '—'}</td>
            <td>
              {b.error ? (
                <Badge value="failed" label={`failed: ${b.error}`} />
              ) : b.rendered === null ? (
                'running'
              ) : (
                `${b.rendered} (${b.reused} unchanged, ${b.removed} removed)`
              )}
              {b.warnings.length > 0 ? (
                <details>
                  <summary>{b.warnings.length} warnings</summary>
                  <ul>
                    {b.warnings.slice(0, 50).map((w) => (
                      <li>{w}</li>
                    ))}
                  </ul>
                </details>
              ) : null}
            </td>
            <td>{b.duration_ms === null ? '—' : `${b.duration_ms} ms`}</td>
            <td>
              {b.publications.length === 0 ? (
                '—'
              ) : (
                <ul class="plain">
                  {b.publications.map((p) => (
                    <li data-target={p.target}>
                      {p.target}:{' '}
                      {p.error
                        ? `failed: ${p.error}`
                        : `${p.written} written and verified, ${p.reused} kept, ${p.deleted} removed, ${kb(p.bytes)}, ${p.duration_ms} ms`}
                    </li>
                  ))}
                </ul>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Snapshots(props: { snapshots: readonly SnapshotSummary[] }): SafeHtml {
  if (props.snapshots.length === 0) return <p>No catalog imported yet (`keepwarm import catalog FILE`).</p>;
  return (
    <table>
      <caption>Catalog snapshots</caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Imported (UTC)</th>
          <th scope="col">Source</th>
          <th scope="col">Products</th>
          <th scope="col">Changes</th>
        </tr>
      </thead>
      <tbody>
        {props.snapshots.map((s) => (
          <tr>
            <td>v{s.version}</td>
            <td>{when(s.created_at)}</td>
            <td>
              {s.source} ({s.format})
            </td>
            <td>{s.product_count}</td>
            <td>
              <a href={`/console/fallback/snapshots/${encodeURIComponent(s.id)}`}>diff against the previous</a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function FallbackConsolePage(props: {
  actor: Actor;
  builds: readonly BuildView[];
  snapshots: readonly SnapshotSummary[];
  flags: readonly FlagEvaluation[];
  targets: ReadonlyArray<{ name: string; type: string }>;
  mirrorUrl: string | null;
  notice?: string;
  children?: Child;
}): SafeHtml {
  return (
    <Layout title="Fallback catalog" actor={props.actor} active="/console/fallback">
      <h1>Fallback catalog</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      <p>
        The static backup catalog buyers are switched to while the showroom is down.{' '}
        {props.mirrorUrl ? (
          <Fragment>
            Public address: <a href={props.mirrorUrl}>{props.mirrorUrl}</a>.
          </Fragment>
        ) : (
          'Set fallback.mirrorUrl to its public address.'
        )}{' '}
        Targets:{' '}
        {props.targets.length === 0
          ? 'none configured (fallback.targets): builds stay in the data folder.'
          : props.targets.map((t) => `${t.name} (${t.type})`).join(', ')}
        . Offline orders are in <a href="/console/orders">Orders</a>.
      </p>
      {can(props.actor.role, 'catalog.import') ? (
        <form method="post" action="/console/fallback/build" class="inline">
          <CsrfField actor={props.actor} />
          <label>
            <input type="checkbox" name="full" value="1" /> render every file again
          </label>{' '}
          <button type="submit">Build and publish now</button>
        </form>
      ) : null}
      <section aria-labelledby="builds">
        <h2 id="builds">Builds</h2>
        <Builds builds={props.builds} />
      </section>
      <section aria-labelledby="flags">
        <h2 id="flags">Kill switches</h2>
        <table>
          <caption>Flags as the showroom reads them now (flags.json is published beside the mirror)</caption>
          <thead>
            <tr>
              <th scope="col">Flag</th>
              <th scope="col">Value</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {props.flags.map((f) => (
              <tr data-flag={f.key}>
                <th scope="row">{f.key}</th>
                <td>{JSON.stringify(f.value)}</td>
                <td>{f.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="snapshots">
        <h2 id="snapshots">Catalog snapshots</h2>
        <Snapshots snapshots={props.snapshots} />
      </section>
    </Layout>
  );
}

export function SnapshotDiffPage(props: {
  actor: Actor;
  diff: {
    from: { version: number } | null;
    to: { version: number };
    added: string[];
    removed: string[];
    changed: Array<{ sku: string; fields: string[] }>;
    unchanged: number;
  };
}): SafeHtml {
  const { diff } = props;
  const title = `Catalog v${diff.to.version}${diff.from ? ` against v${diff.from.version}` : ''}`;
  const list = (items: readonly Child[]) =>
    items.length === 0 ? (
      <p>None.</p>
    ) : (
      <ul>
        {items.slice(0, 500).map((i) => (
          <li>{i}</li>
        ))}
        {items.length > 500 ? <li>… and {items.length - 500} more</li> : null}
      </ul>
    );
  return (
    <Layout title={title} actor={props.actor} active="/console/fallback">
      <p>
        <a href="/console/fallback">Fallback catalog</a>
      </p>
      <h1>{title}</h1>
      <p>
        {diff.added.length} added, {diff.changed.length} changed, {diff.removed.length} removed, {diff.unchanged} unchanged.
      </p>
      <h2>Added</h2>
      {list(diff.added)}
      <h2>Changed</h2>
      {list(diff.changed.map((c) => `${c.sku}: ${c.fields.join(', ')}`))}
      <h2>Removed</h2>
      {list(diff.removed)}
    </Layout>
  );
}
