import { Fragment, h, raw, type SafeHtml } from '../console/html.js';
import { Time } from '../console/layout.js';
import { SHOWN, SURFACE_LABELS, SURFACE_TEMPLATES } from './broadcast.js';
import type { BroadcastPreview } from './broadcast.service.js';

/**
 * The composer's preview: what every surface would say, side by side, with each channel's facts
 * (length, SMS parts, social limit), who it reaches, and what would disagree.
 */
export function ComposePreview({ preview }: { preview: BroadcastPreview }): SafeHtml {
  const errors = preview.problems.filter((p) => p.level === 'error');
  const warnings = preview.problems.filter((p) => p.level === 'warning');
  return (
    <section class="panel" id="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview on every channel</h2>
      {errors.length > 0 ? (
        <div class="notice error" role="alert">
          <p>
            <strong>Publishing is refused until this is fixed:</strong>
          </p>
          <ul>
            {errors.map((p) => (
              <li>{p.message}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="notice ok">Every surface agrees: this update can go out everywhere at once.</p>
      )}
      {warnings.length > 0 ? (
        <ul class="warnings">
          {warnings.map((p) => (
            <li>{p.message}</li>
          ))}
        </ul>
      ) : null}
      <p class="muted">
        Facts shared by every channel: status <strong>{preview.facts.status}</strong>, fallback{' '}
        <code>{preview.facts.fallback_url}</code>, next update by <Time at={Date.parse(preview.facts.next_update_at)} />.
      </p>
      <div class="channel-grid">
        {preview.plan.channels.map((channel) => {
          const reach = preview.reach.find((r) => r.surface === channel.surface);
          const r = channel.rendering;
          return (
            <article class={`channel-card${channel.enabled ? '' : ' off'}`} data-surface={channel.surface}>
              <h3>{SURFACE_LABELS[channel.surface]}</h3>
              <p class="muted">
                {channel.enabled
                  ? reach?.recipients !== null && reach?.recipients !== undefined
                    ? `${reach.recipients} recipient${reach.recipients === 1 ? '' : 's'}`
                    : 'on'
                  : 'off (not configured or nobody subscribed)'}{' '}
                · template <code>{SURFACE_TEMPLATES[channel.surface]}</code>
              </p>
              {SHOWN.has(channel.surface) ? (
                <>
                  <pre class="rendered">{preview.facts.message}</pre>
                  <p class="muted">
                    Shown as written, with the status <strong>{preview.facts.status}</strong>
                    {r?.ok ? '' : ' (its suggested wording has no approved template)'}.
                  </p>
                </>
              ) : !r ? (
                <p class="muted">No template.</p>
              ) : r.ok ? (
                <>
                  {r.content.subject ? (
                    <p>
                      <strong>Subject:</strong> {r.content.subject}
                    </p>
                  ) : null}
                  <pre class="rendered">{r.content.text}</pre>
                  <p class="muted">
                    {r.facts.sms
                      ? `${r.facts.sms.characters} characters, ${r.facts.sms.encoding}, ${r.facts.sms.segments} SMS part${r.facts.sms.segments === 1 ? '' : 's'}`
                      : r.facts.social
                        ? `${r.facts.social.length} of ${r.facts.social.limit} characters`
                        : `${r.facts.length} characters`}
                  </p>
                  {r.facts.warnings.length > 0 ? (
                    <ul class="warnings">
                      {r.facts.warnings.map((w) => (
                        <li>{w}</li>
                      ))}
                    </ul>
                  ) : null}
                </>
              ) : (
                <p class="notice error">{r.error.message}</p>
              )}
            </article>
          );
        })}
      </div>
    </section>
  );
}

/** Deadlines of the update cadence, as the commander needs them: when, and how long is left. */
export interface CountdownView {
  label: string;
  at: number;
  /** Past and not met. */
  overdue: boolean;
}

export interface CadenceFigures {
  ack_seconds: number | null;
  longest_gap_seconds: number | null;
  late_updates: number;
}

export function Countdowns({
  items,
  now,
  figures,
}: {
  items: CountdownView[];
  now: number;
  figures?: CadenceFigures | undefined;
}): SafeHtml {
  if (items.length === 0 && !figures) return raw('');
  const min = (s: number | null) => (s === null ? '—' : `${Math.round(s / 60)} min`);
  return (
    <>
      {figures ? (
        <p class="muted" data-cadence-figures="">
          Acknowledged in {min(figures.ack_seconds)} · longest gap between updates {min(figures.longest_gap_seconds)} · late
          updates {figures.late_updates}
        </p>
      ) : null}
      {items.length > 0 ? <CountdownList items={items} now={now} /> : null}
    </>
  );
}

function CountdownList({ items, now }: { items: CountdownView[]; now: number }): SafeHtml {
  return (
    <ul class="countdowns" aria-label="Update deadlines">
      {items.map((c) => {
        const minutes = Math.round((c.at - now) / 60_000);
        return (
          <li class={c.overdue || minutes < 0 ? 'overdue' : minutes <= 5 ? 'soon' : ''}>
            <strong>{c.label}</strong> <Time at={c.at} />{' '}
            <span data-countdown={String(c.at)}>{minutes >= 0 ? `in ${minutes} min` : `${-minutes} min overdue`}</span>
          </li>
        );
      })}
    </ul>
  );
}
