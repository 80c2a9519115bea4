import { describe, expect, test } from 'vitest';
import {
  checkVersionAction,
  contentProblems,
  hasChanges,
  headlineState,
  LOCALE_PATTERN,
  lineDiff,
  normalizeSubject,
  TEMPLATE_ACTIONS,
  TEMPLATE_KEY_PATTERN,
  TEMPLATE_STATES,
  type TemplateAction,
  type TemplateState,
} from './templates.js';

describe('template version states', () => {
  test('draft → in review → approved → retired, and back from review to draft', () => {
    expect(checkVersionAction('draft', 'edit')).toEqual({ ok: true, to: 'draft' });
    expect(checkVersionAction('draft', 'submit')).toEqual({ ok: true, to: 'in_review' });
    expect(checkVersionAction('in_review', 'approve')).toEqual({ ok: true, to: 'approved' });
    expect(checkVersionAction('in_review', 'reject')).toEqual({ ok: true, to: 'draft' });
    expect(checkVersionAction('approved', 'retire')).toEqual({ ok: true, to: 'retired' });
  });

  test('exactly five moves are legal; every other one is refused with a reason', () => {
    const legal = new Set(['draft:edit', 'draft:submit', 'in_review:approve', 'in_review:reject', 'approved:retire']);
    for (const state of TEMPLATE_STATES) {
      for (const action of TEMPLATE_ACTIONS) {
        const check = checkVersionAction(state as TemplateState, action as TemplateAction);
        expect(check.ok, `${state}:${action}`).toBe(legal.has(`${state}:${action}`));
        if (!check.ok) expect(check.reason.length).toBeGreaterThan(20);
      }
    }
  });

  test('the reasons say what to do instead', () => {
    const edit = checkVersionAction('approved', 'edit');
    expect(!edit.ok && edit.reason).toMatch(/never changes; editing starts a new draft/);
    const approveDraft = checkVersionAction('draft', 'approve');
    expect(!approveDraft.ok && approveDraft.reason).toMatch(/submit it for review/);
    const editInReview = checkVersionAction('in_review', 'edit');
    expect(!editInReview.ok && editInReview.reason).toMatch(/approved or sent back/);
    const retired = checkVersionAction('retired', 'approve');
    expect(!retired.ok && retired.reason).toBe('The version is retired; it cannot be approved.');
  });

  test('a template shows its open version first, then approved, then retired', () => {
    expect(headlineState(['approved', 'draft'])).toBe('draft');
    expect(headlineState(['approved', 'in_review', 'retired'])).toBe('in_review');
    expect(headlineState(['retired', 'approved'])).toBe('approved');
    expect(headlineState(['retired'])).toBe('retired');
  });
});

describe('template content rules', () => {
  test('email needs a one-line subject; other channels have none', () => {
    expect(contentProblems('email', null, '<p>Hi</p>')).toEqual([
      { field: 'subject', message: 'An email template needs a subject.' },
    ]);
    expect(contentProblems('email', '  ', '<p>Hi</p>')[0]?.field).toBe('subject');
    expect(contentProblems('email', 'Line\nbreak', 'x')[0]?.message).toMatch(/one line/);
    expect(contentProblems('sms', 'Subject', 'Hi')[0]?.message).toMatch(/Only email templates have a subject/);
    expect(contentProblems('sms', null, '   ')).toEqual([{ field: 'body', message: 'The template body is empty.' }]);
    expect(contentProblems('sms', null, 'Hi {{ first_name }}')).toEqual([]);
    expect(normalizeSubject('sms', '')).toBeNull();
    expect(normalizeSubject('email', '  Hello ')).toBe('Hello');
  });

  test('keys and locales', () => {
    for (const key of ['email.initial_ack', 'sms.high_intent', 'status.notice', 'email.v2.update']) {
      expect(TEMPLATE_KEY_PATTERN.test(key), key).toBe(true);
    }
    for (const key of ['Email.Ack', 'email', 'email.', '.email', 'email ack', 'e-mail.ack']) {
      expect(TEMPLATE_KEY_PATTERN.test(key), key).toBe(false);
    }
    for (const locale of ['en', 'de', 'pt-BR', 'zh-Hant']) expect(LOCALE_PATTERN.test(locale), locale).toBe(true);
    for (const locale of ['EN', 'english', 'e', 'en_US']) expect(LOCALE_PATTERN.test(locale), locale).toBe(false);
  });
});

describe('line diff', () => {
  test('unchanged, removed and added lines in order', () => {
    const diff = lineDiff(
      'Hi {{ first_name }},\nThe showroom is down.\nBye',
      'Hi {{ first_name }},\nParts of the showroom are down.\nBye',
    );
    expect(diff).toEqual([
      { op: 'same', text: 'Hi {{ first_name }},' },
      { op: 'del', text: 'The showroom is down.' },
      { op: 'add', text: 'Parts of the showroom are down.' },
      { op: 'same', text: 'Bye' },
    ]);
    expect(hasChanges(diff)).toBe(true);
    expect(hasChanges(lineDiff('a\nb', 'a\r\nb'))).toBe(false);
  });

  test('every line of both sides appears exactly once (longest common subsequence)', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f'].join('\n');
    const after = ['a', 'x', 'c', 'e', 'f', 'g'].join('\n');
    const diff = lineDiff(before, after);
    expect(diff.filter((d) => d.op !== 'add').map((d) => d.text)).toEqual(before.split('\n'));
    expect(diff.filter((d) => d.op !== 'del').map((d) => d.text)).toEqual(after.split('\n'));
    expect(diff.filter((d) => d.op === 'same').map((d) => d.text)).toEqual(['a', 'c', 'e', 'f']);
  });

  test('empty sides', () => {
    expect(lineDiff('', 'a\nb')).toEqual([
      { op: 'add', text: 'a' },
      { op: 'add', text: 'b' },
    ]);
    expect(lineDiff('a', '')).toEqual([{ op: 'del', text: 'a' }]);
    expect(lineDiff('', '')).toEqual([]);
  });
});
