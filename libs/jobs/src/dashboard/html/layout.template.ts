import { Html, html } from './html.template';

/** What every page's frame needs. */
export interface PageFrame {
  /** The dashboard's URL prefix in this app (`/admin/jobs`). */
  base: string;
  title: string;
  /** The CSRF token every form posts. */
  csrf: string;
  /** `'account'`: the global pages (schedules, workers, accounts) are not linked. */
  scoped: boolean;
  /** The current account in the scoped mode, shown in the header. */
  accountId?: string;
}

/** The pages in the navigation bar, and whether a scoped dashboard shows them. */
const NAV: ReadonlyArray<{ path: string; label: string; global: boolean }> = [
  { path: '', label: 'Overview', global: false },
  { path: '/jobs', label: 'Jobs', global: false },
  { path: '/schedules', label: 'Schedules', global: true },
  { path: '/workers', label: 'Workers', global: true },
  { path: '/accounts', label: 'Accounts', global: true },
];

/**
 * The frame of every page: stylesheet and script from the package's assets (no inline style or script,
 * which the Content-Security-Policy forbids), the navigation, an optional notice, and the content.
 */
export function layout(
  frame: PageFrame,
  page: { title: string; active: string; notice?: string; refresh?: boolean },
  content: Html,
): Html {
  const nav = NAV.filter((item) => !(frame.scoped && item.global)).map(
    (item) =>
      html`<a href="${frame.base + item.path}" class="${item.path === page.active ? 'active' : ''}"
        >${item.label}</a
      >`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${page.title} · ${frame.title}</title>
<link rel="stylesheet" href="${frame.base}/assets/dashboard.css">
<script type="module" src="${frame.base}/assets/dashboard.js"></script>
</head>
<body${page.refresh ? html` data-refresh="5"` : ''}>
<header><strong class="brand">${frame.title}</strong><nav>${nav}</nav>${frame.accountId ? html`<span class="account">Account <code>${frame.accountId}</code></span>` : ''}${page.refresh ? html`<label class="refresh"><input type="checkbox" id="auto-refresh" /> auto-refresh</label>` : ''}</header>
<main>
${page.notice ? html`<p class="notice" role="status">${page.notice}</p>` : ''}
${content}
</main>
</body>
</html>
`;
}

/** A POST form with the CSRF token and one button; `confirm` asks first (via the page's script). */
export function actionForm(
  frame: PageFrame,
  action: string,
  label: string,
  options: { confirm?: string; fields?: Record<string, string | undefined>; danger?: boolean } = {},
): Html {
  const fields = Object.entries(options.fields ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}" />`);
  return html`<form
    method="post"
    action="${frame.base + action}"
    class="inline"
    ${options.confirm ? html` data-confirm="${options.confirm}"` : ''}
  >
    <input type="hidden" name="_csrf" value="${frame.csrf}" />${fields}<button
      type="submit"
      ${options.danger ? html` class="danger"` : ''}
    >
      ${label}
    </button>
  </form>`;
}
