import type { PausedEntry } from '../../interfaces';
import { Html, html } from './html.template';
import { actionForm, PageFrame } from './layout.template';
import { time } from './format';

/** What is paused, by kind and key, with when it was paused. */
export interface PausedView {
  queues: Map<string, Date>;
  accounts: Map<string, Date>;
}

/** `JobFlowControl.listPaused()` rows, keyed for the pages. */
export function pausedView(entries: PausedEntry[]): PausedView {
  const view: PausedView = { queues: new Map(), accounts: new Map() };
  for (const e of entries)
    (e.kind === 'queue' ? view.queues : view.accounts).set(e.key, e.pausedAt);
  return view;
}

/**
 * A queue's or an account's pause state and its Pause / Resume button (a CSRF-protected POST to
 * `<base>/queues/<name>/pause` or `<base>/accounts/<id>/resume`). Without `canAct` only the state.
 */
export function pauseControl(
  frame: PageFrame,
  target: 'queues' | 'accounts',
  key: string,
  pausedAt: Date | undefined,
  canAct: boolean,
): Html {
  const at = `/${target}/${encodeURIComponent(key)}`;
  const what = target === 'queues' ? `queue ${key}` : `account ${key}`;
  const state = pausedAt
    ? html`<span class="badge state-paused" title="${`paused since ${pausedAt.toISOString()}`}"
        >paused</span
      >`
    : '';
  if (!canAct) return html`${state}`;
  return pausedAt
    ? html`${state} ${actionForm(frame, `${at}/resume`, 'Resume')}`
    : actionForm(frame, `${at}/pause`, 'Pause', {
        confirm: `Pause ${what}? Its jobs wait until it is resumed (running jobs finish).`,
      });
}

/** The account-scoped overview's panel: is this account paused, and the button that changes it. */
export function ownAccountPanel(frame: PageFrame, accountId: string, paused: PausedView): Html {
  const pausedAt = paused.accounts.get(accountId);
  return html`<section class="own-account">
    <p>
      ${pausedAt ? html`Your jobs are <strong>paused</strong> since ${time(pausedAt)}: none starts until you resume.` : 'Your jobs run as they come.'}
      ${pauseControl(frame, 'accounts', accountId, pausedAt, true)}
    </p>
  </section>`;
}
