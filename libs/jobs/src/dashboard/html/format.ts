import { Html, html } from './html.template';

/** A time as `<time>` (UTC text; the page's script shows it in the viewer's zone). */
export function time(date: Date | null | undefined): Html {
  if (!date) return html`<span class="muted">–</span>`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').slice(0, 19)} UTC</time>`;
}

/** A duration in the largest sensible unit (`850 ms`, `12.3 s`, `4 min`, `3 h`, `2 d`). */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** A JSON value as indented text (escaped by the template that shows it). */
export function json(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A state as a coloured badge. */
export function stateBadge(state: string): Html {
  return html`<span class="badge state-${state}">${state}</span>`;
}

/** A count with thousands separators. */
export function count(n: number | undefined): string {
  return (n ?? 0).toLocaleString('en-US');
}
