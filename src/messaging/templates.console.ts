import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';
import { parseInput } from '../app/validation.js';
import { sendPage } from '../console/layout.js';
import { AppError } from '../core/errors.js';
import { SAMPLE_VARIABLES } from './default-templates.js';
import { isOpenState, TEMPLATE_STATES } from './templates.js';
import { type NewTemplateValues, TemplateListPage, TemplatePage } from './templates.pages.js';
import { createTemplateSchema, patchTemplateSchema } from './templates.routes.js';
import type { Preview } from './templates.service.js';

const formBody = z.record(z.string(), z.union([z.string(), z.array(z.string())]));
type Form = z.output<typeof formBody>;
const html = { 200: { description: 'HTML page', contentType: 'text/html' } };
const idParams = z.object({ id: z.string().min(1) });

function field(form: Form, name: string): string {
  const v = form[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function versionField(form: Form): number | undefined {
  const n = Number(field(form, 'version'));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** A 4xx AppError's message for the page; null for anything else (rethrown). */
function messageOf(err: unknown): string | null {
  if (!(err instanceof AppError) || err.status >= 500) return null;
  return err.message;
}

/** "name=value" lines (the console's variables box) as variables. */
export function parseVariableLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at <= 0) continue;
    const name = line.slice(0, at).trim();
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) out[name] = line.slice(at + 1).trim();
  }
  return out;
}

const DONE: Record<string, string> = {
  created: 'Template created as a draft.',
  saved: 'Draft saved.',
  submitted: 'Submitted for legal review.',
  approved: 'Approved: this version is now the one dispatched.',
  rejected: 'Sent back to draft with your note.',
  retired: 'Retired: nothing is sent from this template until another version is approved.',
};

/** Console pages of the template library: list, edit, diff, review, preview. */
export function registerTemplateConsole(r: Router, services: Services): void {
  const { templates, config } = services;

  const renderTemplatePage = async (
    actor: Actor,
    id: string,
    extra: {
      error?: string;
      notice?: string;
      values?: { subject?: string; body?: string };
      previewVersion?: number | undefined;
      vars?: string | undefined;
    } = {},
  ) => {
    const detail = await templates.get(id);
    const variables = new Map(detail.versions.map((v) => [v.id, templates.variablesOf(detail.template, v)]));
    const target =
      (extra.previewVersion !== undefined ? detail.versions.find((v) => v.version === extra.previewVersion) : undefined) ??
      detail.versions.find((v) => isOpenState(v.state)) ??
      detail.versions.find((v) => v.state === 'approved') ??
      detail.versions[0];
    const used = target ? (variables.get(target.id) ?? []) : [];
    const previewVars =
      extra.vars ??
      used
        .map((name) => name.split(/[.[]/)[0] ?? name)
        .filter((name, i, all) => all.indexOf(name) === i)
        .map((name) => `${name}=${config.messaging.variables[name] ?? SAMPLE_VARIABLES[name] ?? ''}`)
        .join('\n');
    let preview: Preview | undefined;
    let previewError: string | undefined;
    if (target) {
      try {
        preview = await templates.preview(
          id,
          { variables: parseVariableLines(previewVars), version: target.version, useSamples: true },
          {
            socialLimit: config.mastodon.characterLimit,
            publicUrl: config.publicUrl,
            postalAddress: config.messaging.postalAddress,
            defaults: config.messaging.variables,
          },
        );
      } catch (err) {
        const message = messageOf(err);
        if (message === null) throw err;
        previewError = message;
      }
    }
    return TemplatePage({
      actor,
      detail,
      variables,
      preview,
      previewError,
      previewVars,
      ...(extra.error !== undefined && { error: extra.error }),
      ...(extra.notice !== undefined && { notice: extra.notice }),
      ...(extra.values !== undefined && { values: extra.values }),
    });
  };

  r.route({
    method: 'GET',
    url: '/console/templates',
    summary: 'Template library page',
    tags: ['console'],
    access: 'templates.read',
    page: true,
    query: z.object({ state: z.enum(TEMPLATE_STATES).optional() }),
    responses: html,
    async handler({ query, actor, reply }) {
      const list = await templates.list({ state: query.state });
      return sendPage(
        reply,
        TemplateListPage({ actor, templates: list.templates, awaitingReview: list.awaitingReview, state: query.state }),
      );
    },
  });

  r.route({
    method: 'POST',
    url: '/console/templates',
    summary: 'Create a template from the console form',
    tags: ['console'],
    access: 'templates.write',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: formBody,
    responses: {
      303: { description: 'Created: redirect to the template' },
      400: { description: 'The form again, with the problem', contentType: 'text/html' },
    },
    async handler({ body, actor, reply }) {
      const values: NewTemplateValues = {
        key: field(body, 'key'),
        locale: field(body, 'locale'),
        channel: field(body, 'channel'),
        purpose: field(body, 'purpose'),
        name: field(body, 'name'),
        subject: field(body, 'subject'),
        body: field(body, 'body'),
      };
      try {
        const input = parseInput(
          createTemplateSchema,
          {
            key: values.key,
            locale: values.locale || undefined,
            channel: values.channel,
            purpose: values.purpose,
            name: values.name,
            subject: values.channel === 'email' ? values.subject : undefined,
            body: values.body,
          },
          'body',
        );
        const created = await templates.create(actor, input);
        return reply.redirect(`/console/templates/${created.template.id}?done=created`, 303);
      } catch (err) {
        const message = messageOf(err);
        if (message === null) throw err;
        const list = await templates.list();
        const page = TemplateListPage({
          actor,
          templates: list.templates,
          awaitingReview: list.awaitingReview,
          error: message,
          values,
        });
        return sendPage(reply, page, (err as AppError).status);
      }
    },
  });

  r.route({
    method: 'GET',
    url: '/console/templates/:id',
    summary: 'Template page: versions, draft editor, diff, legal review, preview with channel facts',
    tags: ['console'],
    access: 'templates.read',
    page: true,
    params: idParams,
    query: z.object({
      done: z.string().max(20).optional(),
      version: z.coerce.number().int().min(1).optional(),
      vars: z.string().max(20_000).optional(),
    }),
    responses: html,
    async handler({ params, query, actor, reply }) {
      const notice = query.done ? DONE[query.done] : undefined;
      const page = await renderTemplatePage(actor, params.id, {
        ...(notice && { notice }),
        previewVersion: query.version,
        vars: query.vars,
      });
      return sendPage(reply, page);
    },
  });

  const action = (
    name: 'edit' | 'submit' | 'approve' | 'reject' | 'retire',
    access: 'templates.write' | 'templates.approve',
    summary: string,
    run: (actor: Actor, id: string, form: Form) => Promise<unknown>,
    done: string,
  ) =>
    r.route({
      method: 'POST',
      url: `/console/templates/:id/${name}`,
      summary,
      tags: ['console'],
      access,
      page: true,
      params: idParams,
      bodyContentType: 'application/x-www-form-urlencoded',
      body: formBody,
      responses: {
        303: { description: 'Done: back to the template' },
        409: { description: 'The page again, with the reason', contentType: 'text/html' },
      },
      async handler({ params, body, actor, reply }) {
        try {
          await run(actor, params.id, body);
          return reply.redirect(`/console/templates/${params.id}?done=${done}`, 303);
        } catch (err) {
          const message = messageOf(err);
          if (message === null || (err as AppError).status === 404 || (err as AppError).status === 403) throw err;
          const values = name === 'edit' ? { subject: field(body, 'subject'), body: field(body, 'body') } : undefined;
          const page = await renderTemplatePage(actor, params.id, { error: message, ...(values && { values }) });
          return sendPage(reply, page, (err as AppError).status);
        }
      },
    });

  action(
    'edit',
    'templates.write',
    'Save the draft (or start a new one) from the console form',
    async (actor, id, form) => {
      const subject = form.subject === undefined ? undefined : field(form, 'subject');
      const input = parseInput(
        patchTemplateSchema,
        { body: field(form, 'body'), ...(subject !== undefined && { subject }) },
        'body',
      );
      await templates.update(actor, id, input);
    },
    'saved',
  );
  action(
    'submit',
    'templates.write',
    'Submit the draft for legal review from the console',
    (actor, id, form) => templates.submit(actor, id, { version: versionField(form) }),
    'submitted',
  );
  action(
    'approve',
    'templates.approve',
    'Approve the version awaiting review from the console (legal or admin)',
    (actor, id, form) => templates.approve(actor, id, { version: versionField(form), note: field(form, 'note') || undefined }),
    'approved',
  );
  action(
    'reject',
    'templates.approve',
    'Send the version awaiting review back to draft from the console (legal or admin)',
    (actor, id, form) => templates.reject(actor, id, { version: versionField(form), note: field(form, 'note') }),
    'rejected',
  );
  action(
    'retire',
    'templates.approve',
    'Retire the approved version from the console (legal or admin)',
    (actor, id, form) => templates.retire(actor, id, { version: versionField(form) }),
    'retired',
  );
}
