import type { Actor } from '../../app/actor.js';
import { can } from '../../app/roles.js';
import { Fragment, h, type SafeHtml } from '../../console/html.js';
import { Badge, CsrfField, Layout, Notice, PublicLayout } from '../../console/layout.js';
import type { Component } from '../../incidents/components.repo.js';
import {
  maskSubscriberAddress,
  SUBSCRIBER_CHANNELS,
  SUBSCRIBER_STATES,
  type SubscriberChannel,
  type SubscriberState,
} from './subscribers.js';
import type { SubscriberView } from './subscribers.service.js';

/**
 * The public subscription pages (no session, no script, strict CSP) and the console list. Every
 * form works with a plain POST; the answer is a page.
 */

const CHANNEL_LABEL: Record<SubscriberChannel, string> = { email: 'Email', sms: 'Text message (SMS)', webhook: 'Webhook' };

export function SubscribeFormPage(props: {
  pageName: string;
  components: Component[];
  error?: string | undefined;
  values?: { channel?: string; address?: string } | undefined;
}): SafeHtml {
  const channel = props.values?.channel ?? 'email';
  return (
    <PublicLayout title={`Subscribe · ${props.pageName}`}>
      <h1>Get {props.pageName} updates</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      <form method="post" action="/status/subscribe">
        <fieldset>
          <legend>How</legend>
          {SUBSCRIBER_CHANNELS.map((c) => (
            <label>
              <input type="radio" name="channel" value={c} checked={c === channel ? true : undefined} /> {CHANNEL_LABEL[c]}
            </label>
          ))}
        </fieldset>
        <label>
          Email address, phone number (+14155550100) or https:// webhook URL
          <input name="address" required value={props.values?.address ?? ''} autocomplete="email" />
        </label>
        <fieldset>
          <legend>What</legend>
          <label>
            <input type="checkbox" name="components" value="all" checked /> Everything
          </label>
          {props.components.map((c) => (
            <label>
              <input type="checkbox" name="components" value={c.id} /> {c.name}
            </label>
          ))}
        </fieldset>
        <div class="actions">
          <button type="submit">Subscribe</button>
        </div>
      </form>
    </PublicLayout>
  );
}

/** The same answer for every address: what to do next, never whether it was known. */
export function SubscribeAnswerPage(props: {
  pageName: string;
  next: 'confirm_email' | 'enter_code' | 'answer_ping';
  address: string;
}): SafeHtml {
  return (
    <PublicLayout title="Almost done">
      <h1>Almost done</h1>
      {props.next === 'confirm_email' ? (
        <Notice kind="ok">
          If <strong data-address>{props.address}</strong> can receive {props.pageName} updates, a confirmation link is on its
          way. Open it and press the button to start receiving updates.
        </Notice>
      ) : props.next === 'enter_code' ? (
        <>
          <Notice kind="ok">
            If <strong data-address>{props.address}</strong> can receive {props.pageName} updates, a 6-digit code is on its way by
            text message. It works for 15 minutes.
          </Notice>
          <SmsCodeForm phone={props.address} />
        </>
      ) : (
        <Notice kind="ok">
          We are sending a signed <code>subscription.confirm</code> request to <strong data-address>{props.address}</strong>.
          Updates start as soon as it answers with a 2xx status.
        </Notice>
      )}
    </PublicLayout>
  );
}

function SmsCodeForm({ phone }: { phone: string }): SafeHtml {
  return (
    <form method="post" action="/status/subscribe/sms">
      <input type="hidden" name="phone" value={phone} />
      <label>
        Code
        <input name="code" inputmode="numeric" pattern="[0-9 ]{6,8}" autocomplete="one-time-code" required />
      </label>
      <div class="actions">
        <button type="submit">Confirm</button>
      </div>
    </form>
  );
}

export function SmsCodeResultPage(props: { outcome: 'confirmed' | 'wrong' | 'locked' | 'expired'; phone: string }): SafeHtml {
  if (props.outcome === 'confirmed') {
    return (
      <PublicLayout title="Subscribed">
        <h1>You are subscribed</h1>
        <Notice kind="ok">Status updates will come by text message. Reply STOP at any time to stop them.</Notice>
      </PublicLayout>
    );
  }
  const message =
    props.outcome === 'locked'
      ? 'Too many wrong codes: this code no longer works. Subscribe again to get a new one.'
      : props.outcome === 'expired'
        ? 'This code has expired. Subscribe again to get a new one.'
        : 'That code is not right. Check the text message and try again.';
  return (
    <PublicLayout title="Code not accepted">
      <h1>Code not accepted</h1>
      <Notice kind="error">{message}</Notice>
      {props.outcome === 'wrong' ? <SmsCodeForm phone={props.phone} /> : <a href="/status/subscribe">Subscribe again</a>}
    </PublicLayout>
  );
}

export function ConfirmEmailPage(props: { token: string; valid: boolean; masked?: string | undefined }): SafeHtml {
  if (!props.valid) return ConfirmResultPage({ confirmed: false });
  return (
    <PublicLayout title="Confirm your subscription">
      <h1>Confirm your subscription</h1>
      <p>
        Send status updates to <strong data-address>{props.masked ?? ''}</strong>?
      </p>
      <form method="post" action="/status/subscribe/confirm">
        <input type="hidden" name="token" value={props.token} />
        <div class="actions">
          <button type="submit">Confirm</button>
        </div>
      </form>
    </PublicLayout>
  );
}

export function ConfirmResultPage({ confirmed }: { confirmed: boolean }): SafeHtml {
  return confirmed ? (
    <PublicLayout title="Subscribed">
      <h1>You are subscribed</h1>
      <Notice kind="ok">Status updates will come to this address. Every message has a link to unsubscribe.</Notice>
    </PublicLayout>
  ) : (
    <PublicLayout title="Link not valid">
      <h1>This link no longer works</h1>
      <Notice kind="error">
        The confirmation link is incomplete, was already used or has expired. <a href="/status/subscribe">Subscribe again</a>.
      </Notice>
    </PublicLayout>
  );
}

export function UnsubscribeSubscriberPage(props: {
  action: string;
  masked: string | null;
  state: 'ask' | 'done' | 'already' | 'invalid';
  error?: string;
}): SafeHtml {
  if (props.state === 'invalid') {
    return (
      <PublicLayout title="Link not valid">
        <h1>This link is not valid</h1>
        <Notice kind="error">The unsubscribe link is incomplete or was changed.</Notice>
      </PublicLayout>
    );
  }
  return (
    <PublicLayout title="Unsubscribe">
      <h1>{props.state === 'done' ? 'You are unsubscribed' : 'Unsubscribe'}</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.state === 'ask' ? (
        <>
          <p>
            Stop status updates to <strong data-address>{props.masked ?? ''}</strong>?
          </p>
          <form method="post" action={props.action}>
            <input type="hidden" name="via" value="page" />
            <div class="actions">
              <button type="submit">Unsubscribe</button>
            </div>
          </form>
        </>
      ) : (
        <Notice kind="ok">
          <span data-address>{props.masked ?? ''}</span> gets no more status updates.
        </Notice>
      )}
    </PublicLayout>
  );
}

export function SubscribersConsolePage(props: {
  actor: Actor;
  subscribers: SubscriberView[];
  counts: Array<{ channel: SubscriberChannel; state: SubscriberState; count: number }>;
  filter: { channel?: SubscriberChannel | undefined; state?: SubscriberState | undefined };
  components: Map<string, string>;
  showAddresses: boolean;
  notice?: string | undefined;
}): SafeHtml {
  const { actor } = props;
  const count = (channel: SubscriberChannel, state: SubscriberState) =>
    props.counts.find((c) => c.channel === channel && c.state === state)?.count ?? 0;
  return (
    <Layout title="Subscribers" actor={actor} active="/console/subscribers">
      <h1>Subscribers</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      <table class="counts">
        <thead>
          <tr>
            <th scope="col">Channel</th>
            {SUBSCRIBER_STATES.map((s) => (
              <th scope="col">{s}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {SUBSCRIBER_CHANNELS.map((c) => (
            <tr>
              <th scope="row">{c}</th>
              {SUBSCRIBER_STATES.map((s) => (
                <td data-count={`${c}-${s}`}>{String(count(c, s))}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <form method="get" action="/console/subscribers" class="filters">
        <label>
          Channel
          <select name="channel">
            <option value="">any</option>
            {SUBSCRIBER_CHANNELS.map((c) => (
              <option value={c} selected={props.filter.channel === c ? true : undefined}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          State
          <select name="state">
            <option value="">any</option>
            {SUBSCRIBER_STATES.map((s) => (
              <option value={s} selected={props.filter.state === s ? true : undefined}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {props.subscribers.length === 0 ? (
        <p class="muted">No subscribers match.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Address</th>
              <th scope="col">Channel</th>
              <th scope="col">Components</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {props.subscribers.map((s) => (
              <tr>
                <td data-address>{props.showAddresses ? s.address : maskSubscriberAddress(s.channel, s.address)}</td>
                <td>{s.channel}</td>
                <td>{s.components === 'all' ? 'all' : s.components.map((id) => props.components.get(id) ?? id).join(', ')}</td>
                <td>
                  <Badge value={s.state} prefix="sub" />
                </td>
                <td>{(s.confirmed_at ?? s.created_at).replace('T', ' ').slice(0, 16)} UTC</td>
                <td>
                  {can(actor.role, 'subscribers.manage') ? (
                    <form method="post" action={`/console/subscribers/${s.id}/delete`}>
                      <CsrfField actor={actor} />
                      <button type="submit" class="secondary">
                        Remove
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
