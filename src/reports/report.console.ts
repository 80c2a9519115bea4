import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import type { Router } from '../app/router.js';
import { parseInput } from '../app/validation.js';
import { sendPage } from '../console/layout.js';
import { AppError } from '../core/errors.js';
import type { ReportEdits } from './report.js';
import { type EditorValues, ReportEditorPage } from './report.pages.js';
import { editSchema } from './report.routes.js';
import type { ReportEditInput, ReportService } from './report.service.js';

const formBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
type Form = z.output<typeof formBody>;
const idParams = z.object({ id: z.string().min(1) });
const html = { 200: { description: 'HTML page', contentType: 'text/html' } };

function field(form: Form, name: string): string {
  const v = form[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** The form as typed, to show it again (rows without an action, owner or date are left out). */
function readValues(form: Form): EditorValues {
  const indexes = new Set<number>();
  for (const key of Object.keys(form)) {
    const m = /^action_(?:kind|title|owner|due|done)_(\d{1,3})$/.exec(key);
    if (m) indexes.add(Number(m[1]));
  }
  const rows = [...indexes]
    .sort((a, b) => a - b)
    .map((i) => ({
      kind: field(form, `action_kind_${i}`),
      title: field(form, `action_title_${i}`).trim(),
      owner: field(form, `action_owner_${i}`).trim(),
      due_date: field(form, `action_due_${i}`).trim(),
      done: field(form, `action_done_${i}`) === '1',
    }))
    .filter((a) => a.title !== '' || a.owner !== '' || a.due_date !== '');
  const revision = Number.parseInt(field(form, 'revision'), 10);
  return {
    summary: field(form, 'summary'),
    rootCause: field(form, 'root_cause'),
    actions: rows,
    revision: Number.isFinite(revision) ? revision : 0,
  };
}

/** The edit the form asks for, checked like the API's (the error names the field, e.g. actions.0.owner). */
function toInput(values: EditorValues, hasRevision: boolean): ReportEditInput {
  return parseInput(
    editSchema,
    {
      summary: values.summary,
      root_cause: values.rootCause,
      actions: values.actions,
      ...(hasRevision && { revision: values.revision }),
    },
    'body',
  );
}

function userError(err: unknown): AppError | null {
  return err instanceof AppError && err.status < 500 && err.status !== 404 ? err : null;
}

/** The console's report editor: edit, preview (nothing saved), save, publish. */
export function registerReportConsole(r: Router, reports: ReportService): void {
  const page = async (
    actor: Actor,
    id: string,
    extra: { values?: EditorValues; edits?: ReportEdits; error?: string; notice?: string } = {},
  ) => {
    const view = await reports.view(id);
    const values: EditorValues = extra.values ?? {
      summary: view.summary ?? '',
      rootCause: view.root_cause,
      actions: view.actions,
      revision: view.revision,
    };
    return ReportEditorPage({
      actor,
      view,
      values,
      preview: await reports.model(id, 'full', extra.edits),
      previewing: extra.edits !== undefined,
      error: extra.error,
      notice: extra.notice,
    });
  };

  r.route({
    method: 'GET',
    url: '/console/incidents/:id/report',
    summary: 'Incident report editor with preview',
    tags: ['console', 'reports'],
    access: 'incidents.read',
    page: true,
    params: idParams,
    query: z.object({ done: z.enum(['saved', 'published']).optional() }),
    responses: html,
    async handler({ params, query, actor, reply }) {
      const notice =
        query.done === 'saved'
          ? 'Report saved.'
          : query.done === 'published'
            ? 'Report published: the status page shows the postmortem.'
            : undefined;
      return sendPage(reply, await page(actor, params.id, notice ? { notice } : {}));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/incidents/:id/report',
    summary: 'Save the report editor form, or preview it without saving (intent=preview)',
    tags: ['console', 'reports'],
    access: 'incidents.update',
    page: true,
    params: idParams,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: {
      ...html,
      303: { description: 'Saved: back to the editor' },
      400: { description: 'The editor again, naming the field at fault', contentType: 'text/html' },
    },
    async handler({ params, body, actor, reply }) {
      const values = readValues(body);
      try {
        const input = toInput(values, field(body, 'revision') !== '');
        if (field(body, 'intent') === 'preview') {
          const edits: ReportEdits = {
            summary: input.summary?.trim() ? input.summary.trim() : null,
            rootCause: input.root_cause ?? '',
            actions: input.actions ?? [],
          };
          return sendPage(reply, await page(actor, params.id, { values, edits }));
        }
        await reports.edit(actor, params.id, input);
        return reply.redirect(`/console/incidents/${encodeURIComponent(params.id)}/report?done=saved`, 303);
      } catch (err) {
        const e = userError(err);
        if (!e) throw err;
        return sendPage(reply, await page(actor, params.id, { error: e.message, values }), e.status);
      }
    },
  });

  r.route({
    method: 'POST',
    url: '/console/incidents/:id/report/publish',
    summary: 'Publish the report as the postmortem (console)',
    tags: ['console', 'reports'],
    access: 'incidents.update',
    page: true,
    params: idParams,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: {
      303: { description: 'Published: back to the editor' },
      409: { description: 'The editor again, with the reason', contentType: 'text/html' },
    },
    async handler({ params, actor, reply }) {
      try {
        await reports.publish(actor, params.id);
        return reply.redirect(`/console/incidents/${encodeURIComponent(params.id)}/report?done=published`, 303);
      } catch (err) {
        const e = userError(err);
        if (!e) throw err;
        return sendPage(reply, await page(actor, params.id, { error: e.message }), e.status);
      }
    },
  });
}
