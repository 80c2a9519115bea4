/**
 * Pure rules of the template library: the version state machine, what a template may contain,
 * and a small line diff for review. No I/O here.
 *
 * A template (key + locale, e.g. email.initial_ack/en) has numbered versions. A version is
 * written as a draft, submitted for review, approved by legal (or an admin) and retired when a
 * newer version is approved or it is withdrawn. An approved version never changes: editing a
 * template whose latest version is approved starts a new draft. A template has at most one open
 * version (draft or in review) and at most one approved version; only the approved one is ever
 * dispatched.
 */
import type { TemplateChannel } from './messaging.js';

export const TEMPLATE_STATES = ['draft', 'in_review', 'approved', 'retired'] as const;
export type TemplateState = (typeof TEMPLATE_STATES)[number];

export const TEMPLATE_ACTIONS = ['edit', 'submit', 'approve', 'reject', 'retire'] as const;
export type TemplateAction = (typeof TEMPLATE_ACTIONS)[number];

export const STATE_LABELS: Record<TemplateState, string> = {
  draft: 'Draft',
  in_review: 'Awaiting legal review',
  approved: 'Approved',
  retired: 'Retired',
};

export const ACTION_LABELS: Record<TemplateAction, string> = {
  edit: 'edit',
  submit: 'submit for review',
  approve: 'approve',
  reject: 'send back',
  retire: 'retire',
};

export type TransitionCheck = { ok: true; to: TemplateState } | { ok: false; reason: string };

const TARGET: Record<TemplateAction, TemplateState> = {
  edit: 'draft',
  submit: 'in_review',
  approve: 'approved',
  reject: 'draft',
  retire: 'retired',
};

const SOURCE: Record<TemplateAction, TemplateState> = {
  edit: 'draft',
  submit: 'draft',
  approve: 'in_review',
  reject: 'in_review',
  retire: 'approved',
};

/** Whether `action` may be applied to a version in `state`, and the state it leads to. */
export function checkVersionAction(state: TemplateState, action: TemplateAction): TransitionCheck {
  if (state === SOURCE[action]) return { ok: true, to: TARGET[action] };
  const verb = ACTION_LABELS[action];
  switch (state) {
    case 'approved':
      if (action === 'edit') return { ok: false, reason: 'An approved version never changes; editing starts a new draft.' };
      return { ok: false, reason: `The version is already approved; only retiring it is possible, not ${verb}.` };
    case 'retired':
      return { ok: false, reason: `The version is retired; it cannot be ${pastTense(action)}.` };
    case 'in_review':
      if (action === 'edit' || action === 'submit') {
        return {
          ok: false,
          reason: 'The version is awaiting legal review; it must be approved or sent back before it can change.',
        };
      }
      return { ok: false, reason: 'Only an approved version can be retired; this one is still awaiting review.' };
    case 'draft':
      if (action === 'approve' || action === 'reject') {
        return { ok: false, reason: `The version is a draft; submit it for review before legal can ${verb} it.` };
      }
      return { ok: false, reason: 'Only an approved version can be retired; this one is a draft.' };
  }
}

function pastTense(action: TemplateAction): string {
  switch (action) {
    case 'submit':
      return 'submitted';
    case 'approve':
      return 'approved';
    case 'reject':
      return 'sent back';
    case 'retire':
      return 'retired';
    case 'edit':
      return 'edited';
  }
}

export function isOpenState(state: TemplateState): boolean {
  return state === 'draft' || state === 'in_review';
}

/** The state a template shows in lists: its open version if any, else approved, else retired. */
export function headlineState(states: readonly TemplateState[]): TemplateState {
  if (states.includes('in_review')) return 'in_review';
  if (states.includes('draft')) return 'draft';
  if (states.includes('approved')) return 'approved';
  return 'retired';
}

// ---------------------------------------------------------------------------------------------
// What a template may contain

/** `email.initial_ack`: a lowercase channel-ish prefix, a dot, then a name. */
export const TEMPLATE_KEY_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
/** `en`, `de`, `pt-BR`, `zh-Hant`. */
export const LOCALE_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export const MAX_BODY_LENGTH = 50_000;
export const MAX_SUBJECT_LENGTH = 300;

export interface ContentProblem {
  field: 'subject' | 'body';
  message: string;
}

/**
 * Channel rules for a version's content: email has a subject, nothing else does; every body has
 * words in it. (Liquid syntax is checked by the renderer, which parses it.)
 */
export function contentProblems(channel: TemplateChannel, subject: string | null, body: string): ContentProblem[] {
  const problems: ContentProblem[] = [];
  if (channel === 'email') {
    if (subject === null || subject.trim() === '')
      problems.push({ field: 'subject', message: 'An email template needs a subject.' });
  } else if (subject !== null && subject !== '') {
    problems.push({ field: 'subject', message: `Only email templates have a subject; this one is for ${channel}.` });
  }
  if (body.trim() === '') problems.push({ field: 'body', message: 'The template body is empty.' });
  if (body.length > MAX_BODY_LENGTH) {
    problems.push({ field: 'body', message: `The body is ${body.length} characters; the limit is ${MAX_BODY_LENGTH}.` });
  }
  if (subject !== null && subject.length > MAX_SUBJECT_LENGTH) {
    problems.push({
      field: 'subject',
      message: `The subject is ${subject.length} characters; the limit is ${MAX_SUBJECT_LENGTH}.`,
    });
  }
  if (subject !== null && /[\r\n]/.test(subject)) {
    problems.push({ field: 'subject', message: 'The subject must be one line.' });
  }
  return problems;
}

/** Subject as stored: null for channels without one, trimmed otherwise. */
export function normalizeSubject(channel: TemplateChannel, subject: string | null | undefined): string | null {
  if (channel !== 'email') return subject === undefined || subject === null || subject === '' ? null : subject;
  return subject === undefined || subject === null ? null : subject.trim();
}

// ---------------------------------------------------------------------------------------------
// Line diff (for review: what changed since the approved version)

export type DiffLine = { op: 'same' | 'add' | 'del'; text: string };

const MAX_DIFF_CELLS = 4_000_000;

/**
 * Line diff by longest common subsequence: every line of `before` and `after` appears once, as
 * unchanged, removed or added, in order. Common head and tail are trimmed first; very large
 * inputs fall back to "everything removed, everything added".
 */
export function lineDiff(before: string, after: string): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: DiffLine[] = a.slice(0, start).map((text) => ({ op: 'same', text }));
  const tail: DiffLine[] = a.slice(endA).map((text) => ({ op: 'same', text }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  return [...head, ...diffMiddle(midA, midB), ...tail];
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\r\n?/g, '\n').split('\n');
}

function diffMiddle(a: string[], b: string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  if (n === 0) return b.map((text) => ({ op: 'add', text }));
  if (m === 0) return a.map((text) => ({ op: 'del', text }));
  if (n * m > MAX_DIFF_CELLS) {
    return [...a.map((text): DiffLine => ({ op: 'del', text })), ...b.map((text): DiffLine => ({ op: 'add', text }))];
  }
  // lcs[i][j]: length of the LCS of a[i..] and b[j..], in one flat array.
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lcs[(i + 1) * width + j] ?? 0, lcs[i * width + j + 1] ?? 0);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    const x = a[i] as string;
    const y = b[j] as string;
    if (x === y) {
      out.push({ op: 'same', text: x });
      i++;
      j++;
    } else if ((lcs[(i + 1) * width + j] ?? 0) >= (lcs[i * width + j + 1] ?? 0)) {
      out.push({ op: 'del', text: x });
      i++;
    } else {
      out.push({ op: 'add', text: y });
      j++;
    }
  }
  while (i < n) out.push({ op: 'del', text: a[i++] as string });
  while (j < m) out.push({ op: 'add', text: b[j++] as string });
  return out;
}

export function hasChanges(diff: readonly DiffLine[]): boolean {
  return diff.some((d) => d.op !== 'same');
}
