import type { Actor } from '../app/actor.js';
import { Fragment, h, type SafeHtml } from '../console/html.js';
import { CsrfField, Layout, Notice, Time } from '../console/layout.js';
import { PERSONAL_TABLES, type PersonalTable } from './privacy.repo.js';
import type { ErasureResult, PurgeResult, RetentionView } from './privacy.service.js';
import { describeDays, type FieldError, RETENTION_FIELDS, RETENTION_KEYS } from './retention.js';
import type { Subject } from './subject.js';

/** The console's privacy page: retention settings, the last purge, and one person's data. */

export interface PrivacyPageProps {
  actor: Actor;
  retention: RetentionView;
  lastPurge: PurgeResult | null;
  /** The form as typed, when it was refused (kept so nothing typed is lost). */
  form?: Record<string, string> | undefined;
  errors?: FieldError[] | undefined;
  notice?: string | undefined;
  error?: string | undefined;
  /** The person looked up: counts per table, before export or erasure. */
  preview?: { subject: Subject; counts: Record<PersonalTable, number>; addresses: number } | undefined;
  erased?: ErasureResult | undefined;
  /** What was typed in the person form (kept on an error). */
  subjectText?: string | undefined;
}

const TABLE_LABELS: Record<PersonalTable, string> = {
  leads: 'Leads',
  intent_events: 'Intent events',
  tasks: 'Owner tasks',
  enrollments: 'Sequence enrollments',
  conversations: 'Conversations',
  inbound_messages: 'Inbound texts',
  subscribers: 'Status subscriptions',
  messages: 'Messages sent',
  message_attempts: 'Delivery attempts',
  orders: 'Offline orders',
  jobs: 'Job errors naming them',
  suppressions: 'Suppressions',
  users: 'Staff accounts',
  owner_profiles: 'Owner profiles',
};

const ACTION_TEXT: Record<string, string> = {
  deleted: 'deleted',
  redacted: 'kept without personal data',
  kept: 'kept',
};

function RetentionForm(props: PrivacyPageProps): SafeHtml {
  const { retention } = props;
  const errors = new Map((props.errors ?? []).map((e) => [e.field, e.message]));
  return (
    <section class="panel" aria-labelledby="retention-title">
      <h2 id="retention-title">Retention</h2>
      <p class="muted" data-retention-source={retention.source}>
        {retention.source === 'console' ? (
          <>
            Saved here <Time at={retention.updatedAt} />; these take over from the configuration (privacy.retention).
          </>
        ) : (
          'From the configuration (privacy.retention). Saving here takes over from it.'
        )}{' '}
        0 or empty keeps the data. The purge job runs every hour in short batches.
      </p>
      {errors.size > 0 ? (
        <Notice kind="error">
          Nothing was saved. Please correct:
          <ul>
            {[...errors].map(([field, message]) => (
              <li data-error-field={field}>
                <strong>{RETENTION_FIELDS[field as keyof typeof RETENTION_FIELDS]?.label ?? field}</strong>: {message}
              </li>
            ))}
          </ul>
        </Notice>
      ) : null}
      <form method="post" action="/console/privacy/retention">
        <CsrfField actor={props.actor} />
        <div class="row">
          {RETENTION_KEYS.map((key) => {
            const typed = props.form?.[key];
            const value = typed ?? (retention.value[key] === null ? '0' : String(retention.value[key]));
            return (
              <div>
                <label for={`retention-${key}`}>
                  {RETENTION_FIELDS[key].label} <span class="hint">(days)</span>
                </label>
                <input
                  id={`retention-${key}`}
                  name={key}
                  type="text"
                  inputmode="numeric"
                  value={value}
                  aria-invalid={errors.has(key) ? 'true' : undefined}
                  aria-describedby={`retention-${key}-hint`}
                />
                <p class="hint" id={`retention-${key}-hint`}>
                  {RETENTION_FIELDS[key].covers} Configured: {describeDays(retention.configured[key])}.
                </p>
              </div>
            );
          })}
        </div>
        <div class="actions">
          <button type="submit">Save retention</button>
        </div>
      </form>
      {retention.source === 'console' ? (
        <form method="post" action="/console/privacy/retention/reset">
          <CsrfField actor={props.actor} />
          <button type="submit" class="secondary">
            Use the configuration's values
          </button>
        </form>
      ) : null}
    </section>
  );
}

function LastPurge({ actor, purge }: { actor: Actor; purge: PurgeResult | null }): SafeHtml {
  return (
    <section class="panel" aria-labelledby="purge-title">
      <h2 id="purge-title">Purge</h2>
      {purge ? (
        <dl class="facts" data-last-purge="">
          <dt>Last run</dt>
          <dd>
            <Time at={purge.ranAt} /> ({purge.durationMs} ms{purge.complete ? '' : ', stopped early; the next run carries on'})
          </dd>
          <dt>Message bodies removed</dt>
          <dd data-purged="messages">{purge.messagesRedacted}</dd>
          <dt>Beacon signals deleted</dt>
          <dd data-purged="beacons">{purge.beaconSignalsDeleted}</dd>
          <dt>Intent events deleted</dt>
          <dd data-purged="events">{purge.intentEventsDeleted}</dd>
          <dt>Conversations deleted</dt>
          <dd data-purged="conversations">{purge.conversationsDeleted}</dd>
          <dt>Inbound texts deleted</dt>
          <dd data-purged="inbound">{purge.inboundMessagesDeleted}</dd>
        </dl>
      ) : (
        <p class="muted">No purge has run yet.</p>
      )}
      <form method="post" action="/console/privacy/purge">
        <CsrfField actor={actor} />
        <button type="submit" class="secondary">
          Purge now
        </button>
      </form>
    </section>
  );
}

function CountsTable({ counts }: { counts: Record<PersonalTable, number> }): SafeHtml {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Where</th>
          <th scope="col">Rows</th>
          <th scope="col">On erasure</th>
        </tr>
      </thead>
      <tbody>
        {(Object.keys(PERSONAL_TABLES) as PersonalTable[]).map((t) => (
          <tr data-table={t}>
            <td>{TABLE_LABELS[t]}</td>
            <td data-count="">{counts[t]}</td>
            <td class="muted">
              {t === 'suppressions'
                ? 'kept and added (nothing is sent to them again), or deleted if you untick it'
                : ACTION_TEXT[PERSONAL_TABLES[t]]}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PersonSection(props: PrivacyPageProps): SafeHtml {
  const { actor, preview } = props;
  return (
    <section class="panel" aria-labelledby="person-title">
      <h2 id="person-title">A person's data</h2>
      <p class="muted">
        Export everything held about a person as JSON, or erase them from every table in one step. The audit log records that it
        happened and the counts, never the address.
      </p>
      <form method="post" action="/console/privacy/preview">
        <CsrfField actor={actor} />
        <label for="privacy-subject">Email or phone number</label>
        <input
          id="privacy-subject"
          name="subject"
          type="text"
          required
          autocomplete="off"
          value={props.subjectText ?? preview?.subject.value ?? ''}
          placeholder="ana@example.com or +14155550100"
        />
        <div class="actions">
          <button type="submit">Look up</button>
        </div>
      </form>
      {preview ? (
        <div data-preview={preview.subject.kind}>
          <h3>
            {preview.subject.value}{' '}
            <span class="hint">
              ({preview.addresses} address{preview.addresses === 1 ? '' : 'es'}, with their leads' other contact details)
            </span>
          </h3>
          <CountsTable counts={preview.counts} />
          <div class="row">
            <form method="post" action="/console/privacy/export">
              <CsrfField actor={actor} />
              <input type="hidden" name="subject" value={preview.subject.value} />
              <button type="submit" class="secondary">
                Download export (JSON)
              </button>
            </form>
            <form method="post" action="/console/privacy/erase">
              <CsrfField actor={actor} />
              <input type="hidden" name="subject" value={preview.subject.value} />
              <label>
                <input type="checkbox" name="suppress" value="yes" checked /> Never message this address again (keeps it on the
                suppression list)
              </label>
              <label>
                <input type="checkbox" name="confirm" value="yes" required /> I understand erasure cannot be undone
              </label>
              <button type="submit" class="danger">
                Erase {preview.subject.value}
              </button>
            </form>
          </div>
        </div>
      ) : null}
    </section>
  );
}

function Erased({ result }: { result: ErasureResult }): SafeHtml {
  return (
    <div data-erased={result.kind}>
      <Notice kind="ok">
        Erased: {result.addresses} address{result.addresses === 1 ? '' : 'es'}
        {result.suppressed > 0 ? `, ${result.suppressed} added to the suppression list` : ''}. Audit reference{' '}
        <code>{result.subjectHash}</code>.
      </Notice>
      {result.staffAccounts > 0 ? (
        <Notice kind="error">
          A staff account uses this address: it was not touched. Disable or remove it under users if it must go too.
        </Notice>
      ) : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Where</th>
            <th scope="col">Rows</th>
            <th scope="col">Done</th>
          </tr>
        </thead>
        <tbody>
          {(Object.keys(result.tables) as PersonalTable[]).map((t) => (
            <tr data-table={t}>
              <td>{TABLE_LABELS[t]}</td>
              <td data-count="">{result.tables[t].rows}</td>
              <td>{ACTION_TEXT[result.tables[t].action]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PrivacyPage(props: PrivacyPageProps): SafeHtml {
  return (
    <Layout title="Privacy" actor={props.actor} active="/console/privacy">
      <h1>Privacy</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.erased ? <Erased result={props.erased} /> : null}
      <RetentionForm {...props} />
      <LastPurge actor={props.actor} purge={props.lastPurge} />
      <PersonSection {...props} />
    </Layout>
  );
}
