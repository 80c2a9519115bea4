import { Fragment, h, type SafeHtml } from '../../console/html.js';
import { Notice, PublicLayout } from '../../console/layout.js';
import type { SuppressionChannel } from '../suppressions.repo.js';

/**
 * The public unsubscribe pages (no console navigation, no session): the recipient sees their
 * address masked, one button, and the result. Served with sendPage's strict CSP; no script at all.
 */

/** Enough of an address to recognise it, not enough to read it off a shoulder: j•••@e•••.com, •••••••0364. */
export function maskAddress(channel: SuppressionChannel, address: string): string {
  const dot = '•••';
  if (channel === 'sms') {
    const digits = address.replace(/\D/g, '');
    return digits.length <= 4 ? dot : `${'•'.repeat(Math.min(8, digits.length - 4))}${digits.slice(-4)}`;
  }
  const at = address.lastIndexOf('@');
  if (at <= 0) return `${Array.from(address)[0] ?? ''}${dot}`;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const lastDot = domain.lastIndexOf('.');
  const maskedDomain =
    lastDot > 0 ? `${Array.from(domain)[0] ?? ''}${dot}${domain.slice(lastDot)}` : `${Array.from(domain)[0] ?? ''}${dot}`;
  return `${Array.from(local)[0] ?? ''}${dot}@${maskedDomain}`;
}

function channelLabel(channel: SuppressionChannel): string {
  return channel === 'email' ? 'email' : 'text messages';
}

export function UnsubscribePage(props: {
  action: string;
  channel: SuppressionChannel;
  masked: string;
  already: boolean;
  error?: string;
}): SafeHtml {
  return (
    <PublicLayout title="Unsubscribe">
      <h1>Unsubscribe</h1>
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.already ? (
        <Notice kind="ok">
          <span data-address>{props.masked}</span> is already unsubscribed from {channelLabel(props.channel)}.
        </Notice>
      ) : (
        <>
          <p>
            Stop sending {channelLabel(props.channel)} to <strong data-address>{props.masked}</strong>?
          </p>
          <form method="post" action={props.action}>
            <input type="hidden" name="via" value="page" />
            <div class="actions">
              <button type="submit">Unsubscribe</button>
            </div>
          </form>
        </>
      )}
    </PublicLayout>
  );
}

export function UnsubscribedPage(props: { channel: SuppressionChannel; masked: string }): SafeHtml {
  return (
    <PublicLayout title="Unsubscribed">
      <h1>You are unsubscribed</h1>
      <Notice kind="ok">
        <span data-address>{props.masked}</span> will get no more {channelLabel(props.channel)} from us.
      </Notice>
    </PublicLayout>
  );
}

/** A link from a drill message (delivered to the sinks only): nothing happens to the address. */
export function DrillLinkPage(props: { channel: SuppressionChannel; masked: string }): SafeHtml {
  return (
    <PublicLayout title="Drill message">
      <h1>This link is from a drill</h1>
      <Notice kind="ok">
        The message came from an outage drill and was never sent to <span data-address>{props.masked}</span>. Nothing was changed:
        the address still gets {channelLabel(props.channel)} as before.
      </Notice>
    </PublicLayout>
  );
}

export function InvalidLinkPage(): SafeHtml {
  return (
    <PublicLayout title="Link not valid">
      <h1>This link is not valid</h1>
      <Notice kind="error">
        The unsubscribe link is incomplete or was changed. Open it again from the message you received, or reply to that message
        asking to be removed.
      </Notice>
    </PublicLayout>
  );
}
