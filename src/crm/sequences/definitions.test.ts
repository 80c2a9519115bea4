import { describe, expect, test } from 'vitest';
import { DAY, HOUR } from '../../core/clock.js';
import { decideChat, decideSms, menuNumber } from '../conversations/conversations.js';
import { readLink, signLink } from '../links.js';
import { planStep, SEQUENCES, stepKey, stopReasonBeforeSend } from './definitions.js';

describe('sequence definitions', () => {
  test('Tier B: SMS + spec pack email now, a follow-up email 24 h later; Tier C: nurture, then again after 3 days', () => {
    expect(SEQUENCES.tier_b?.steps.map((s) => s.messages.map((m) => `${m.channel}:${m.templateKey}`))).toEqual([
      ['sms:sms.high_intent', 'email:email.spec_pack'],
      ['email:email.outage_followup'],
    ]);
    expect(planStep('tier_b', 0, 1000)).toMatchObject({ kind: 'send', next: { step: 1, nextAt: 1000 + 24 * HOUR } });
    expect(planStep('tier_b', 1, 1000)).toMatchObject({ kind: 'send', next: null });
    expect(planStep('tier_c', 0, 0)).toMatchObject({ next: { step: 1, nextAt: 3 * DAY } });
    expect(planStep('tier_c', 2, 0)).toEqual({ kind: 'unknown' });
    expect(planStep('nope', 0, 0)).toEqual({ kind: 'unknown' });
    expect(stepKey('tier_b', 1)).toBe('seq:tier_b:1');
  });

  test('stops before sending: booked, resolved, or opted out of every channel with an address', () => {
    const ch = (email: boolean | null, sms: boolean | null) => [
      { channel: 'email' as const, address: email === null ? null : 'a@b.test', suppressed: email === true },
      { channel: 'sms' as const, address: sms === null ? null : '+1415', suppressed: sms === true },
    ];
    expect(stopReasonBeforeSend({ booked: false, outageActive: true, channels: ch(false, false) })).toBeNull();
    expect(stopReasonBeforeSend({ booked: true, outageActive: true, channels: ch(false, false) })).toBe('booked');
    expect(stopReasonBeforeSend({ booked: false, outageActive: false, channels: ch(false, false) })).toBe('resolved');
    expect(stopReasonBeforeSend({ booked: false, outageActive: true, channels: ch(true, false) })).toBeNull();
    expect(stopReasonBeforeSend({ booked: false, outageActive: true, channels: ch(true, true) })).toBe('unsubscribed');
    expect(stopReasonBeforeSend({ booked: false, outageActive: true, channels: ch(null, true) })).toBe('unsubscribed');
    expect(stopReasonBeforeSend({ booked: false, outageActive: true, channels: ch(null, null) })).toBeNull();
  });
});

describe('conversation rules', () => {
  test('menu numbers', () => {
    expect(['1', ' 2 ', '1.', '#3', '2)'].map(menuNumber)).toEqual([1, 2, 1, 3, 2]);
    expect(['12', '1 please', 'one', ''].map(menuNumber)).toEqual([null, null, null, null]);
  });

  test('SMS: 1 specs, 2 booking with a task, anything else to a person with a task', () => {
    expect(decideSms('1')).toMatchObject({ choice: 'specs', templateKey: 'sms.reply_specs', ownerTask: false });
    expect(decideSms('2')).toMatchObject({ choice: 'booking', templateKey: 'sms.reply_booking', ownerTask: true });
    expect(decideSms('3')).toMatchObject({ choice: 'person', ownerTask: true });
    expect(decideSms('call me')).toMatchObject({ choice: 'person', templateKey: 'sms.reply_person' });
  });

  test('chat: menu first, options by number, free text from a known lead to a person', () => {
    expect(decideChat({ state: null, text: 'hi', identified: true })).toMatchObject({ choice: 'menu', templateKey: 'chat.menu' });
    expect(decideChat({ state: 'menu', text: '3', identified: false })).toMatchObject({ choice: 'comparison' });
    expect(decideChat({ state: 'menu', text: '2', identified: false })).toMatchObject({ choice: 'booking', ownerTask: false });
    expect(decideChat({ state: 'menu', text: '2', identified: true })).toMatchObject({ choice: 'booking', ownerTask: true });
    expect(decideChat({ state: 'menu', text: 'price?', identified: false })).toMatchObject({ choice: 'menu' });
    expect(decideChat({ state: 'answered', text: 'price?', identified: true })).toMatchObject({
      choice: 'person',
      ownerTask: true,
    });
  });
});

describe('signed links', () => {
  const secret = 's'.repeat(32);
  const make = (now: number, url = 'https://catalog.test/x?a=1') =>
    new URL(signLink('https://kw.test', secret, { leadId: 'L1', incidentId: 'I1', url, kind: 'spec', now })).pathname.slice(3);

  test('valid for 30 days, then expired; another secret or an edit is invalid', () => {
    expect(readLink(secret, make(0), 30 * DAY)).toMatchObject({
      ok: true,
      claim: { leadId: 'L1', url: 'https://catalog.test/x?a=1' },
    });
    expect(readLink(secret, make(0), 30 * DAY + 1)).toEqual({ ok: false, reason: 'expired' });
    expect(readLink('t'.repeat(32), make(0), 0)).toEqual({ ok: false, reason: 'invalid' });
    expect(readLink(secret, `${make(0)}x`, 0)).toEqual({ ok: false, reason: 'invalid' });
  });

  test('never a redirect to anything but http(s)', () => {
    expect(readLink(secret, make(0, 'javascript:alert(1)'), 0)).toEqual({ ok: false, reason: 'invalid' });
  });
});
