/**
 * The few request and response features the dashboard uses, written against what Express's and
 * Fastify's objects both have (`status`, `header`, `send`, `headers`, `query`, `body`, `ip`), so the
 * controller depends on neither adapter's types.
 */

/** The request, as the dashboard reads it. */
export interface DashboardRequest {
  headers: Record<string, string | string[] | undefined>;
  query: Record<string, unknown>;
  body?: unknown;
  ip?: string;
  secure?: boolean;
  protocol?: string;
  originalUrl?: string;
  url?: string;
}

/** The response, as the dashboard writes it. */
export interface DashboardResponse {
  status(code: number): DashboardResponse;
  header(name: string, value: string | string[]): DashboardResponse;
  getHeader(name: string): unknown;
  send(body: string | Buffer): unknown;
}

/** Adds a cookie, keeping the ones already set (a guard may have set its own session cookie). */
export function appendCookie(res: DashboardResponse, value: string): void {
  const previous = res.getHeader('set-cookie');
  const list = Array.isArray(previous)
    ? previous.map(String)
    : typeof previous === 'string'
      ? [previous]
      : [];
  res.header('set-cookie', [...list, value]);
}

/**
 * No inline script or style anywhere: the page's JavaScript and CSS come from the package's assets.
 * Inline SVG charts need no `style-src` exception, as their geometry is in attributes.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The value of one cookie, or `undefined`. */
export function cookie(req: DashboardRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The dashboard's URL prefix as this request reached it: the mount path plus whatever the app put in
 * front of it (a global prefix), so links work however the app is mounted.
 */
export function basePath(req: DashboardRequest, mountPath: string): string {
  const url = (req.originalUrl ?? req.url ?? '').split('?')[0];
  const at = url.indexOf(mountPath);
  return at >= 0 ? url.slice(0, at + mountPath.length) : mountPath;
}

/** The form fields of a POST (urlencoded, parsed by the app's body parser), or none. */
export function formFields(req: DashboardRequest): Record<string, unknown> {
  return req.body !== null && typeof req.body === 'object'
    ? (req.body as Record<string, unknown>)
    : {};
}

/** Sends a page with the dashboard's security headers. */
export function sendHtml(res: DashboardResponse, status: number, body: string): void {
  res
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store')
    .send(body);
}

/** Redirects after a POST (303: the browser follows with a GET). */
export function redirect(res: DashboardResponse, location: string): void {
  res.status(303).header('location', location).header('cache-control', 'no-store').send('');
}
