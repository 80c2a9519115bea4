import type { Actor } from '../app/actor.js';
import { can } from '../app/roles.js';
import { h, type SafeHtml } from '../console/html.js';
import { CsrfField, Layout, Notice } from '../console/layout.js';
import { ReportBody } from './html.js';
import { ACTION_KINDS, type ReportModel } from './report.js';
import type { ReportView } from './report.service.js';

/** What the editor's form holds (saved values, or what was just submitted). */
export interface EditorValues {
  summary: string;
  rootCause: string;
  actions: Array<{ kind: string; title: string; owner: string; due_date: string; done: boolean }>;
  revision: number;
}

/** Blank rows offered for new actions. */
export const BLANK_ACTION_ROWS = 2;

export function ReportEditorPage(props: {
  actor: Actor;
  view: ReportView;
  values: EditorValues;
  preview: ReportModel;
  previewing: boolean;
  error?: string | undefined;
  notice?: string | undefined;
}): SafeHtml {
  const { actor, view, values } = props;
  const base = `/console/incidents/${encodeURIComponent(view.incident_id)}/report`;
  const published = view.state === 'published';
  const mayEdit = can(actor.role, 'incidents.update') && !published;
  const rows = [
    ...values.actions,
    ...Array.from({ length: mayEdit ? BLANK_ACTION_ROWS : 0 }, () => ({
      kind: 'remediation',
      title: '',
      owner: '',
      due_date: '',
      done: false,
    })),
  ];
  return (
    <Layout title={`Report: ${view.incident_name}`} actor={actor} active="/console/incidents">
      <p>
        <a href={`/console/incidents/${encodeURIComponent(view.incident_id)}`}>← {view.incident_name}</a>
      </p>
      <h1>Incident report</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      <div class="panel">
        <p id="report-status">
          <span class={`badge s-${published ? 'resolved' : 'investigating'}`}>{published ? 'published' : 'draft'}</span>{' '}
          <span class="muted">
            revision {view.revision}
            {view.due_at ? ` · due by ${view.due_at.slice(0, 16).replace('T', ' ')} UTC` : ' · due 72 h after resolution'}
          </span>
        </p>
        <p>
          Download: <a href={view.links.markdown}>Markdown</a> · <a href={view.links.html}>HTML</a> ·{' '}
          <a href={view.links.pdf}>PDF</a> · <a href={view.links.executive}>Executive summary (PDF)</a>
          {published ? (
            <span>
              {' '}
              · <a href={view.links.public}>Public report</a>
            </span>
          ) : null}
        </p>
      </div>
      {mayEdit ? (
        <form method="post" action={base} class="panel" id="report-editor">
          <CsrfField actor={actor} />
          <input type="hidden" name="revision" value={String(values.revision)} />
          <label for="report-summary-field">Summary</label>
          <textarea id="report-summary-field" name="summary" rows="4" placeholder={view.generated_summary}>
            {values.summary}
          </textarea>
          <p class="muted">
            Leave empty to use the summary generated from the figures (shown as the placeholder). The summary is what the status
            page shows.
          </p>
          <label for="report-root-cause-field">Root cause</label>
          <textarea id="report-root-cause-field" name="root_cause" rows="6">
            {values.rootCause}
          </textarea>
          <p class="muted">Blameless: the conditions and contributing factors, not who is at fault.</p>
          <fieldset>
            <legend>Remediation and preventive actions</legend>
            <table>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Action</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Due</th>
                  <th scope="col">Done</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a, i) => (
                  <tr>
                    <td>
                      <select name={`action_kind_${i}`} aria-label={`Action ${i + 1} kind`}>
                        {ACTION_KINDS.map((k) => (
                          <option value={k} selected={a.kind === k}>
                            {k}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <input name={`action_title_${i}`} value={a.title} aria-label={`Action ${i + 1}`} />
                    </td>
                    <td>
                      <input name={`action_owner_${i}`} value={a.owner} aria-label={`Action ${i + 1} owner`} />
                    </td>
                    <td>
                      <input type="date" name={`action_due_${i}`} value={a.due_date} aria-label={`Action ${i + 1} due date`} />
                    </td>
                    <td>
                      <input
                        type="checkbox"
                        name={`action_done_${i}`}
                        value="1"
                        checked={a.done}
                        aria-label={`Action ${i + 1} done`}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p class="muted">A row without an action is ignored; save to get more empty rows.</p>
          </fieldset>
          <p>
            <button type="submit" name="intent" value="preview">
              Preview
            </button>{' '}
            <button type="submit" name="intent" value="save">
              Save
            </button>
          </p>
        </form>
      ) : null}
      {mayEdit ? (
        <form method="post" action={`${base}/publish`} class="panel" id="report-publish">
          <CsrfField actor={actor} />
          <p>
            Publishing posts a <strong>postmortem</strong> update on the status page, its JSON and feeds, and to subscribers,
            linking the public report (no sales figures, no owners). It cannot be edited afterwards.
          </p>
          <button type="submit">Publish the report</button>
        </form>
      ) : null}
      <section class="panel" id="report-preview">
        <h2>{props.previewing ? 'Preview (not saved)' : 'Preview'}</h2>
        <ReportBody report={props.preview} />
      </section>
    </Layout>
  );
}
