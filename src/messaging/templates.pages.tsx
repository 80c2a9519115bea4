import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import { Fragment, h, type SafeHtml } from '../console/html.js';
import { Badge, CsrfField, Layout, Notice, Time } from '../console/layout.js';
import { PURPOSES, TEMPLATE_CHANNELS, type TemplateChannel } from './messaging.js';
import type { ChannelFacts } from './render.js';
import { type DiffLine, hasChanges, isOpenState, lineDiff, STATE_LABELS, type TemplateState } from './templates.js';
import type { VersionRecord } from './templates.repo.js';
import type { Preview, TemplateDetail, TemplateSummary } from './templates.service.js';

const CHANNEL_LABELS: Record<TemplateChannel, string> = {
  email: 'Email',
  sms: 'SMS',
  status: 'Status page',
  banner: 'Website banner',
  call: 'Call scripts',
  chat: 'Chat',
  social: 'Social',
  slack: 'Slack (internal)',
  webhook: 'Webhooks',
};

function StateBadge({ state }: { state: TemplateState }): SafeHtml {
  return <Badge value={state} prefix="t" label={STATE_LABELS[state]} />;
}

export interface NewTemplateValues {
  key?: string;
  locale?: string;
  channel?: string;
  purpose?: string;
  name?: string;
  subject?: string;
  body?: string;
}

export function TemplateListPage(props: {
  actor: Actor;
  templates: TemplateSummary[];
  awaitingReview: number;
  state?: TemplateState | undefined;
  error?: string;
  values?: NewTemplateValues;
}): SafeHtml {
  const { actor } = props;
  const v = props.values ?? {};
  const byChannel = TEMPLATE_CHANNELS.map((channel) => ({
    channel,
    templates: props.templates.filter((t) => t.template.channel === channel),
  })).filter((g) => g.templates.length > 0);
  return (
    <Layout title="Templates" actor={actor} active="/console/templates">
      <h1>Templates</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <p class="muted">
        Every message Keepwarm sends or shows comes from an approved template. Legal approves each version; editing an approved
        template starts a new draft.
      </p>
      <p data-awaiting-review={String(props.awaitingReview)}>
        {props.awaitingReview === 0 ? (
          <span class="muted">Nothing is awaiting legal review.</span>
        ) : (
          <strong>
            <a href="/console/templates?state=in_review">{props.awaitingReview} awaiting legal review</a>
          </strong>
        )}
        {props.state ? (
          <span>
            {' '}
            · showing {STATE_LABELS[props.state].toLowerCase()} only · <a href="/console/templates">show all</a>
          </span>
        ) : null}
      </p>
      {byChannel.length === 0 ? <div class="panel">No templates {props.state ? 'in this state' : 'yet'}.</div> : null}
      {byChannel.map((group) => (
        <section>
          <h2>{CHANNEL_LABELS[group.channel]}</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Template</th>
                <th scope="col">Purpose</th>
                <th scope="col">Locale</th>
                <th scope="col">State</th>
                <th scope="col">Dispatched version</th>
              </tr>
            </thead>
            <tbody>
              {group.templates.map((s) => (
                <tr data-template-key={s.template.key}>
                  <td>
                    <a href={`/console/templates/${s.template.id}`}>{s.template.name}</a>
                    <div class="muted">
                      <code>{s.template.key}</code>
                    </div>
                  </td>
                  <td>{s.template.purpose}</td>
                  <td>{s.template.locale}</td>
                  <td>
                    <StateBadge state={s.state} />
                    {s.openVersion ? <span class="muted"> (v{s.openVersion.version})</span> : null}
                  </td>
                  <td>{s.approvedVersion === null ? <strong>none — nothing is sent</strong> : `v${s.approvedVersion}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
      {can(actor.role, 'templates.write') ? (
        <details class="panel" open={props.error !== undefined}>
          <summary>New template</summary>
          <form method="post" action="/console/templates">
            <CsrfField actor={actor} />
            <div class="row">
              <div>
                <label for="new-key">Key</label>
                <input id="new-key" name="key" type="text" required value={v.key ?? ''} placeholder="email.price_list" />
              </div>
              <div>
                <label for="new-locale">Locale</label>
                <input id="new-locale" name="locale" type="text" value={v.locale ?? 'en'} />
              </div>
              <div>
                <label for="new-channel">Channel</label>
                <select id="new-channel" name="channel">
                  {TEMPLATE_CHANNELS.map((c) => (
                    <option value={c} selected={v.channel === c}>
                      {CHANNEL_LABELS[c]}
                    </option>
                  ))}
                </select>
              </div>
              <div>
                <label for="new-purpose">Purpose</label>
                <select id="new-purpose" name="purpose">
                  {PURPOSES.map((p) => (
                    <option value={p} selected={v.purpose === p}>
                      {p}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <label for="new-name">Name</label>
            <input id="new-name" name="name" type="text" required value={v.name ?? ''} />
            <label for="new-subject">
              Subject <span class="hint">(email only)</span>
            </label>
            <input id="new-subject" name="subject" type="text" value={v.subject ?? ''} />
            <label for="new-body">
              Body <span class="hint">(Liquid: {'{{ first_name }}'}; HTML for email, plain text elsewhere)</span>
            </label>
            <textarea id="new-body" name="body" required>
              {v.body ?? ''}
            </textarea>
            <div class="actions">
              <button type="submit">Create draft</button>
            </div>
          </form>
        </details>
      ) : null}
    </Layout>
  );
}

/**
 * Text shown line by line in monospace that still wraps inside the panel (the console's CSS has
 * no pre-wrap outside the timeline and the CSP allows no inline styles): runs of spaces and
 * leading spaces become no-break spaces so indentation survives; empty lines keep their height.
 */
function keepSpaces(text: string): string {
  return text.replace(/^ +| {2,}/g, (run) => '\u00a0'.repeat(run.length));
}

function Line({ text, marked }: { text: string; marked?: SafeHtml }): SafeHtml {
  return <div class="line">{marked ?? (text === '' ? <br /> : <code>{keepSpaces(text)}</code>)}</div>;
}

export function Lines({ text, ...rest }: { text: string } & Record<string, string>): SafeHtml {
  return (
    <div class="lines" {...rest}>
      {text.split('\n').map((line) => (
        <Line text={line} />
      ))}
    </div>
  );
}

export function DiffView({ diff, label }: { diff: DiffLine[]; label: string }): SafeHtml {
  return (
    <div class="diff lines" data-diff-of={label}>
      {diff.map((d) => (
        <Line
          text={d.text}
          marked={
            d.op === 'add' ? (
              <ins>
                <code>{`+ ${keepSpaces(d.text)}`}</code>
              </ins>
            ) : d.op === 'del' ? (
              <del>
                <code>{`- ${keepSpaces(d.text)}`}</code>
              </del>
            ) : (
              <code>{`\u00a0\u00a0${keepSpaces(d.text)}`}</code>
            )
          }
        />
      ))}
    </div>
  );
}

function FactsView({ facts }: { facts: ChannelFacts }): SafeHtml {
  return (
    <div data-facts={facts.channel}>
      <dl class="facts">
        <dt>Length</dt>
        <dd>{facts.length} characters</dd>
        {facts.sms ? (
          <>
            <dt>Encoding</dt>
            <dd data-sms-encoding={facts.sms.encoding}>{facts.sms.encoding}</dd>
            <dt>Parts</dt>
            <dd>
              {facts.sms.segments} ({facts.sms.units} {facts.sms.encoding === 'GSM-7' ? 'septets' : 'code units'},{' '}
              {facts.sms.per_segment} per part, {facts.sms.remaining} left)
            </dd>
            {facts.sms.gsm_suggestion ? (
              <>
                <dt>GSM-7 wording</dt>
                <dd data-gsm-suggestion="">{facts.sms.gsm_suggestion}</dd>
              </>
            ) : null}
            {facts.sms.non_gsm.length > 0 ? (
              <>
                <dt>Forced UCS-2</dt>
                <dd>
                  <ul>
                    {facts.sms.non_gsm.map((c) => (
                      <li>
                        <code>{c.char}</code> {c.code_point} ×{c.count}:{' '}
                        {c.suggestion === null ? (
                          'no GSM-7 equivalent: rephrase or remove it'
                        ) : c.suggestion === '' ? (
                          'remove it'
                        ) : c.suggestion === ' ' ? (
                          'use a plain space'
                        ) : (
                          <>
                            use <code>{c.suggestion}</code>
                          </>
                        )}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            ) : null}
          </>
        ) : null}
        {facts.social ? (
          <>
            <dt>Post length</dt>
            <dd>
              {facts.social.length} of {facts.social.limit} (links count {facts.social.links > 0 ? '23 each' : 'as 23'})
            </dd>
          </>
        ) : null}
        {facts.email ? (
          <>
            <dt>Subject length</dt>
            <dd>
              {facts.email.subject_length} characters (inboxes show about {facts.email.subject_advice})
            </dd>
          </>
        ) : null}
      </dl>
      {facts.warnings.length > 0 ? (
        <ul class="warnings">
          {facts.warnings.map((w) => (
            <li>
              <strong>Check:</strong> {w}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No warnings.</p>
      )}
    </div>
  );
}

export interface TemplatePageProps {
  actor: Actor;
  detail: TemplateDetail;
  variables: Map<string, string[]>;
  preview?: Preview | undefined;
  previewError?: string | undefined;
  previewVersion?: number | undefined;
  previewVars: string;
  error?: string | undefined;
  notice?: string | undefined;
  values?: { subject?: string; body?: string } | undefined;
}

function VersionContent({ version, channel }: { version: VersionRecord; channel: TemplateChannel }): SafeHtml {
  return (
    <div>
      {channel === 'email' ? (
        <p>
          <strong>Subject:</strong> {version.subject ?? ''}
        </p>
      ) : null}
      <Lines text={version.body} />
    </div>
  );
}

export function TemplatePage(props: TemplatePageProps): SafeHtml {
  const { actor, detail } = props;
  const t = detail.template;
  const versions = detail.versions;
  const open = versions.find((v) => isOpenState(v.state));
  const approved = versions.find((v) => v.state === 'approved');
  const newest = versions[0];
  const canWrite = can(actor.role, 'templates.write');
  const canApprove = can(actor.role, 'templates.approve');
  const editBase = open?.state === 'draft' ? open : open ? undefined : (approved ?? newest);
  const subjectDiff =
    open && approved && t.channel === 'email' ? lineDiff(approved.subject ?? '', open.subject ?? '') : undefined;
  const bodyDiff = open && approved ? lineDiff(approved.body, open.body) : undefined;
  return (
    <Layout title={t.name} actor={actor} active="/console/templates">
      <p>
        <a href="/console/templates">← Templates</a>
      </p>
      <h1>{t.name}</h1>
      <p>
        <code>{t.key}</code> · {t.locale} · {CHANNEL_LABELS[t.channel]} · {t.purpose}{' '}
        {approved ? (
          <span data-dispatched-version={String(approved.version)}>· version {approved.version} is approved and dispatched</span>
        ) : (
          <strong data-dispatched-version="none">· no approved version: nothing is sent from this template</strong>
        )}
      </p>
      {t.description ? <p class="muted">{t.description}</p> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}

      <h2>Versions</h2>
      <table data-versions="">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">State</th>
            <th scope="col">Written</th>
            <th scope="col">Submitted</th>
            <th scope="col">Approved</th>
            <th scope="col">Retired</th>
            <th scope="col">Review note</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr data-version={String(v.version)} data-state={v.state}>
              <td>v{v.version}</td>
              <td>
                <StateBadge state={v.state} />
              </td>
              <td>
                <Time at={v.createdAt} /> <div class="muted">{v.createdBy ?? ''}</div>
              </td>
              <td>
                <Time at={v.submittedAt} /> <div class="muted">{v.submittedBy ?? ''}</div>
              </td>
              <td>
                <Time at={v.approvedAt} /> <div class="muted">{v.approvedBy ?? ''}</div>
              </td>
              <td>
                <Time at={v.retiredAt} /> <div class="muted">{v.retiredBy ?? ''}</div>
              </td>
              <td>{v.reviewNote ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {open ? (
        <section class="panel" data-open-version={String(open.version)}>
          <h2>
            Version {open.version}: <StateBadge state={open.state} />
          </h2>
          {open.state === 'draft' && open.reviewNote ? <Notice kind="error">Sent back by legal: {open.reviewNote}</Notice> : null}
          {open.state === 'in_review' ? (
            <p>
              Submitted by {open.submittedBy ?? 'someone'} <Time at={open.submittedAt} />. It cannot change while legal reviews
              it.
            </p>
          ) : null}
          {open.state === 'in_review' || !canWrite ? <VersionContent version={open} channel={t.channel} /> : null}
          <p class="muted">Variables: {(props.variables.get(open.id) ?? []).join(', ') || 'none'}</p>
        </section>
      ) : null}

      {open ? (
        <section class="panel" data-diff="">
          <h2>{approved ? `Changes against the approved version ${approved.version}` : 'Changes'}</h2>
          {!approved ? (
            <p class="muted">No version is approved yet: all of version {open.version} is new.</p>
          ) : bodyDiff && !hasChanges(bodyDiff) && (!subjectDiff || !hasChanges(subjectDiff)) ? (
            <p class="muted">
              No changes: version {open.version} reads the same as version {approved.version}.
            </p>
          ) : (
            <>
              {subjectDiff && hasChanges(subjectDiff) ? (
                <>
                  <h3>Subject</h3>
                  <DiffView diff={subjectDiff} label="Subject changes" />
                </>
              ) : null}
              {bodyDiff ? (
                <>
                  <h3>Body</h3>
                  <DiffView diff={bodyDiff} label="Body changes" />
                </>
              ) : null}
            </>
          )}
        </section>
      ) : null}

      {canWrite && editBase ? (
        <form method="post" action={`/console/templates/${t.id}/edit`} class="panel" data-edit-form="">
          <h2>
            {open?.state === 'draft'
              ? `Edit draft (version ${open.version})`
              : `Edit: starts version ${(newest?.version ?? 0) + 1} as a draft`}
          </h2>
          <CsrfField actor={actor} />
          {t.channel === 'email' ? (
            <>
              <label for="edit-subject">Subject</label>
              <input id="edit-subject" name="subject" type="text" value={props.values?.subject ?? editBase.subject ?? ''} />
            </>
          ) : null}
          <label for="edit-body">
            Body <span class="hint">(Liquid; {t.channel === 'email' ? 'HTML, every variable is escaped' : 'plain text'})</span>
          </label>
          <textarea id="edit-body" name="body" rows="12" required>
            {props.values?.body ?? editBase.body}
          </textarea>
          <div class="actions">
            <button type="submit">Save draft</button>
          </div>
        </form>
      ) : null}

      {open?.state === 'draft' && canWrite ? (
        <form method="post" action={`/console/templates/${t.id}/submit`} class="panel">
          <CsrfField actor={actor} />
          <input type="hidden" name="version" value={String(open.version)} />
          <p>When the draft reads right, send it to legal. Nothing is sent from it until legal approves it.</p>
          <button type="submit">Submit for legal review</button>
        </form>
      ) : null}

      {open?.state === 'in_review' && canApprove ? (
        <div class="panel" data-review="">
          <h2>Legal review of version {open.version}</h2>
          <form method="post" action={`/console/templates/${t.id}/approve`}>
            <CsrfField actor={actor} />
            <input type="hidden" name="version" value={String(open.version)} />
            <label for="approve-note">
              Note <span class="hint">(optional)</span>
            </label>
            <input id="approve-note" name="note" type="text" />
            <div class="actions">
              <button type="submit">Approve version {open.version}</button>
              {approved ? <span class="muted">Version {approved.version} retires.</span> : null}
            </div>
          </form>
          <form method="post" action={`/console/templates/${t.id}/reject`}>
            <CsrfField actor={actor} />
            <input type="hidden" name="version" value={String(open.version)} />
            <label for="reject-note">What needs to change</label>
            <textarea id="reject-note" name="note" required></textarea>
            <div class="actions">
              <button type="submit" class="secondary">
                Send back to draft
              </button>
            </div>
          </form>
        </div>
      ) : null}

      {approved && canApprove ? (
        <form
          method="post"
          action={`/console/templates/${t.id}/retire`}
          class="panel"
          data-confirm={`Retire version ${approved.version}? Nothing is sent from ${t.key} until another version is approved.`}
        >
          <CsrfField actor={actor} />
          <input type="hidden" name="version" value={String(approved.version)} />
          <p>
            Retiring version {approved.version} stops every dispatch of <code>{t.key}</code> until another version is approved.
          </p>
          <button type="submit" class="danger">
            Retire version {approved.version}
          </button>
        </form>
      ) : null}

      {!open && approved ? (
        <section class="panel">
          <h2>Approved version {approved.version}</h2>
          <VersionContent version={approved} channel={t.channel} />
        </section>
      ) : null}

      <section class="panel" id="preview" data-preview="">
        <h2>Preview</h2>
        <form method="get" action={`/console/templates/${t.id}#preview`}>
          <div class="row">
            <div>
              <label for="preview-version">Version</label>
              <select id="preview-version" name="version">
                {versions.map((v) => (
                  <option value={String(v.version)} selected={props.preview?.version.version === v.version}>
                    v{v.version} ({STATE_LABELS[v.state].toLowerCase()})
                  </option>
                ))}
              </select>
            </div>
          </div>
          <label for="preview-vars">
            Variables <span class="hint">(one per line: name=value; the rest get sample values)</span>
          </label>
          <textarea id="preview-vars" name="vars" rows="6">
            {props.previewVars}
          </textarea>
          <div class="actions">
            <button type="submit" class="secondary">
              Preview
            </button>
          </div>
        </form>
        {props.previewError ? <Notice kind="error">{props.previewError}</Notice> : null}
        {props.preview ? <PreviewView preview={props.preview} /> : null}
      </section>
    </Layout>
  );
}

function PreviewView({ preview }: { preview: Preview }): SafeHtml {
  const c = preview.content;
  return (
    <div data-preview-version={String(preview.version.version)}>
      <p class="muted">
        Version {preview.version.version}
        {preview.sampled.length > 0 ? `; sample values for ${preview.sampled.join(', ')}` : ''}.
      </p>
      {c.subject !== undefined ? (
        <p>
          <strong>Subject:</strong> <span data-preview-subject="">{c.subject}</span>
        </p>
      ) : null}
      <h3>{c.html !== undefined ? 'Plain-text part' : 'Text'}</h3>
      <Lines text={c.text} data-preview-text="" />
      {c.html !== undefined ? (
        <details>
          <summary>HTML part (source)</summary>
          <Lines text={c.html} data-preview-html="" />
        </details>
      ) : null}
      <h3>Channel facts</h3>
      <FactsView facts={preview.facts} />
    </div>
  );
}
