import type { Actor } from '../../app/actor.js';
import { can } from '../../app/roles.js';
import { Fragment, h, type SafeHtml } from '../../console/html.js';
import { Badge, CsrfField, Layout, Notice, PublicLayout, Time } from '../../console/layout.js';
import { canMove, type FieldError, ORDER_STATES, type OrderState } from './orders.js';
import type { Order } from './orders.repo.js';

/**
 * The buyer's answers (thank-you page, form errors: no session, no script) and the console list
 * of offline orders.
 */

export function OrderThanksPage(props: { order: Order; back: string | null }): SafeHtml {
  const { order } = props;
  return (
    <PublicLayout title={`Order received · ${order.reference}`}>
      <h1>Thank you, your order is in</h1>
      <Notice kind="ok">
        Your reference is <strong data-reference>{order.reference}</strong>. Quote it when you talk to us.
      </Notice>
      <p>
        Our sales team has your order for {order.company} ({order.lines.length} {order.lines.length === 1 ? 'line' : 'lines'}) and
        will confirm prices and delivery by email to {order.email}.
      </p>
      <ul>
        {order.lines.map((l) => (
          <li>
            {l.quantity.toLocaleString('en-US')} × {l.sku}
            {l.name ? ` (${l.name})` : ''}
          </li>
        ))}
      </ul>
      {order.unknownSkus > 0 ? (
        <p class="muted">
          {order.unknownSkus === 1 ? 'One SKU is' : `${order.unknownSkus} SKUs are`} not in our current catalog; we will check it
          with you.
        </p>
      ) : null}
      {props.back ? (
        <p>
          <a href={props.back}>Back to the catalog</a>
        </p>
      ) : null}
    </PublicLayout>
  );
}

export function OrderErrorsPage(props: { errors: FieldError[]; back: string | null }): SafeHtml {
  return (
    <PublicLayout title="Please check your order">
      <h1>Please check your order</h1>
      <Notice kind="error">Nothing was sent yet. Please correct these fields and send the order again:</Notice>
      <ul>
        {props.errors.map((e) => (
          <li data-field={e.field}>
            <strong>{e.field}</strong>: {e.message}
          </li>
        ))}
      </ul>
      {props.back ? (
        <p>
          <a href={props.back}>Back to the order form</a> (your browser's back button keeps what you typed)
        </p>
      ) : (
        <p>Use your browser's back button: it keeps what you typed.</p>
      )}
    </PublicLayout>
  );
}

function Actions({ actor, order }: { actor: Actor; order: Order }): SafeHtml {
  if (!can(actor.role, 'orders.write')) return <span class="muted">—</span>;
  const moves = (['acknowledged', 'converted'] as const).filter((to) => canMove(order.state, to));
  if (moves.length === 0) return <span class="muted">—</span>;
  return (
    <div class="actions">
      {moves.map((to) => (
        <form method="post" action={`/console/orders/${order.id}/${to === 'acknowledged' ? 'acknowledge' : 'convert'}`}>
          <CsrfField actor={actor} />
          <button type="submit" class={to === 'converted' ? 'secondary' : undefined}>
            {to === 'acknowledged' ? 'Mark acknowledged' : 'Mark converted'}
          </button>
        </form>
      ))}
    </div>
  );
}

export function OrdersConsolePage(props: {
  actor: Actor;
  orders: Order[];
  state: OrderState | undefined;
  salesEmail: string | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}): SafeHtml {
  const { actor } = props;
  return (
    <Layout title="Offline orders" actor={actor} active="/console/orders">
      <h1>Offline orders</h1>
      {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
      {props.error ? <Notice kind="error">{props.error}</Notice> : null}
      {props.salesEmail ? (
        <p class="muted">
          New orders are emailed to <strong>{props.salesEmail}</strong>.
        </p>
      ) : (
        <Notice kind="error">
          No sales address is configured (fallback.salesEmail): orders are stored here but nobody is emailed.
        </Notice>
      )}
      <form method="get" action="/console/orders" class="filters">
        <label>
          State{' '}
          <select name="state">
            <option value="">all</option>
            {ORDER_STATES.map((s) => (
              <option value={s} selected={props.state === s}>
                {s}
              </option>
            ))}
          </select>
        </label>{' '}
        <button type="submit" class="secondary">
          Show
        </button>
      </form>
      {props.orders.length === 0 ? (
        <p class="muted">No offline orders{props.state ? ` in state ${props.state}` : ''}.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Reference</th>
              <th scope="col">Received</th>
              <th scope="col">Buyer</th>
              <th scope="col">Lines</th>
              <th scope="col">Incident</th>
              <th scope="col">Email</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.orders.map((o) => (
              <tr data-order={o.reference}>
                <td>
                  <strong>{o.reference}</strong>
                </td>
                <td>
                  <Time at={o.createdAt} />
                </td>
                <td>
                  {o.company}
                  <br />
                  {o.contactName} · <a href={`mailto:${o.email}`}>{o.email}</a>
                  {o.phone ? ` · ${o.phone}` : ''}
                  {o.notes ? <p class="muted">{o.notes}</p> : null}
                </td>
                <td>
                  <ul>
                    {o.lines.map((l) => (
                      <li>
                        {l.quantity.toLocaleString('en-US')} × <code>{l.sku}</code>
                        {l.name ? ` ${l.name}` : ''}
                        {l.known ? null : (
                          <>
                            {' '}
                            <Badge value="degraded_performance" label="not in catalog" />
                          </>
                        )}
                      </li>
                    ))}
                  </ul>
                </td>
                <td>
                  {o.incidentId ? <a href={`/console/incidents/${o.incidentId}`}>{o.incidentName ?? o.incidentId}</a> : '—'}
                </td>
                <td>
                  {o.emailedAt !== null ? (
                    <Time at={o.emailedAt} />
                  ) : (
                    <span class="muted">{o.emailProblem ?? 'not emailed'}</span>
                  )}
                </td>
                <td>
                  <Badge value={o.state} prefix="order" />
                </td>
                <td>
                  <Actions actor={actor} order={o} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
