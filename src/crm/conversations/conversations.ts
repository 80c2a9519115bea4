/**
 * The conversation engine's rules, one for both channels: what a reply means and what to answer.
 * SMS (after the outage text "Reply 1 for specs, 2 to book time"): 1 → spec pack link, 2 → booking
 * link and an owner task, anything else → "a person will get back to you" and an owner task.
 * Chat (the widget's fallback menu): 1 sheets, 2 demo, 3 comparison; anything else shows the menu
 * again, or, from a lead who gave their email after the menu was shown, goes to a person.
 * Compliance keywords (STOP, START, HELP) never reach the engine: the inbound service answers them.
 */

export type ConversationChannel = 'sms' | 'chat';
export type Choice = 'specs' | 'booking' | 'comparison' | 'person' | 'menu';

/** The menu a conversation is at (conversations.state). */
export type ConversationState = 'new' | 'menu' | 'answered' | 'handed_over';

export interface Decision {
  choice: Choice;
  /** The approved template that answers. */
  templateKey: string;
  /** The owner gets a reply_followup task. */
  ownerTask: boolean;
  /** The conversation's state afterwards. */
  state: ConversationState;
}

const SMS_TEMPLATES: Record<'specs' | 'booking' | 'person', string> = {
  specs: 'sms.reply_specs',
  booking: 'sms.reply_booking',
  person: 'sms.reply_person',
};

const CHAT_TEMPLATES: Record<Choice, string> = {
  specs: 'chat.reply_specs',
  booking: 'chat.reply_demo',
  comparison: 'chat.reply_comparison',
  person: 'chat.reply_person',
  menu: 'chat.menu',
};

/** The option a reply picked: "1", " 2 ", "1." or "#3" count; "12" or "1 please call" do not. */
export function menuNumber(text: string): number | null {
  const m = /^\s*#?\s*([0-9])\s*[.)!]?\s*$/.exec(text);
  return m ? Number(m[1]) : null;
}

export function decideSms(text: string): Decision {
  const n = menuNumber(text);
  const choice = n === 1 ? 'specs' : n === 2 ? 'booking' : 'person';
  return {
    choice,
    templateKey: SMS_TEMPLATES[choice],
    ownerTask: choice !== 'specs',
    state: choice === 'specs' ? 'answered' : 'handed_over',
  };
}

export function decideChat(input: { state: ConversationState | null; text: string; identified: boolean }): Decision {
  const n = menuNumber(input.text);
  const picked: Choice | null = n === 1 ? 'specs' : n === 2 ? 'booking' : n === 3 ? 'comparison' : null;
  if (picked) {
    return {
      choice: picked,
      templateKey: CHAT_TEMPLATES[picked],
      ownerTask: picked === 'booking' && input.identified,
      state: 'answered',
    };
  }
  // A first message (a greeting) gets the menu; later free text from a known lead goes to a person.
  if (input.state !== null && input.state !== 'new' && input.identified) {
    return { choice: 'person', templateKey: CHAT_TEMPLATES.person, ownerTask: true, state: 'handed_over' };
  }
  return { choice: 'menu', templateKey: CHAT_TEMPLATES.menu, ownerTask: false, state: 'menu' };
}

/** The owner task's title for a reply (no message text: it may hold anything). */
export function followupTitle(channel: ConversationChannel, choice: Choice, who: string): string {
  const via = channel === 'sms' ? 'SMS' : 'chat';
  return choice === 'booking' ? `${who} asked to book time (${via})` : `${who} replied by ${via}: answer them`;
}
