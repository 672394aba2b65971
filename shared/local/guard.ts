import { randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Environment } from '../config.ts';

/**
 * What every listener of the local cloud does before its own routing: survive any bytes
 * on the wire, answer only requests that name this machine (DNS rebinding points another
 * name at 127.0.0.1), and tell the developer's tools from a web page in their browser.
 */

/** Where a listener is reachable from this machine only. */
export const loopback = '127.0.0.1';

/** The address the local cloud listens on, read at start: loopback unless `LOCAL_CLOUD_HOST` says otherwise. */
export function listenHost(env: Environment): string {
  return env.LOCAL_CLOUD_HOST || loopback;
}

/**
 * Whether a Host header names this machine: a loopback address, `localhost` or a name under
 * it (RFC 6761 keeps `.localhost` on loopback; S3's virtual-hosted style uses
 * `bucket.localhost`), or the address the cloud was told to listen on (any address when that is every interface).
 */
export function isAllowedHost(host: string | undefined, configured: string): boolean {
  if (!host) return true;
  const name = (host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')).toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost') || name === configured.toLowerCase()) return true;
  // Listening on every interface, any address may be named: rebinding needs a name, never an address.
  if (isIP(name) !== 0 && (configured === '0.0.0.0' || configured === '::')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1';
}

/** The request's target as a URL, or undefined when it is not a path (`//x`, `*`, a full URL). */
export function requestUrl(request: IncomingMessage): URL | undefined {
  const target = request.url ?? '/';
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  return URL.parse(`http://localhost${target}`) ?? undefined;
}

/**
 * Whether a browser sent the request on behalf of a page of another origin. Browsers mark
 * every request with `Sec-Fetch-Site` (and cross-origin ones with `Origin`); the SDKs,
 * aws-cli, boto3, kombu and curl send neither.
 * https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-Fetch-Site
 */
export function isCrossSite(request: IncomingMessage): boolean {
  // Sec-Fetch-Site is the browser's own verdict; Origin decides only for browsers without it.
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  const origin = header(request, 'origin');
  if (origin === undefined) return false;
  const parsed = URL.parse(origin);
  return parsed === null || parsed.host !== header(request, 'host');
}

/**
 * Whether a browser sent the request at all (any page, any origin, a typed URL): browsers
 * send `Sec-Fetch-Site` on every request and `Origin` on every POST; tools send neither
 * (Node's own fetch sends only `Sec-Fetch-Mode`, so that one is not a browser's mark).
 */
export function isFromBrowser(request: IncomingMessage): boolean {
  return header(request, 'origin') !== undefined || header(request, 'sec-fetch-site') !== undefined;
}

/** The HTML forms' token: a page of another origin cannot read it, so it cannot post a form that carries it. */
export const formToken = randomBytes(24).toString('base64url');

/** Headers every dashboard page carries: no framing, scripts and styles from this origin only. */
export const pageHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Not no-referrer: under it a browser sends `Origin: null` even on the page's own form posts.
  'referrer-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/**
 * A request listener that cannot throw: a synchronous throw or a rejected promise becomes
 * an answer (400 for a request that cannot be read, 500 otherwise) and a report, never an
 * exception out of the listener, which would end the process.
 */
export function guardedListener(
  listener: (request: IncomingMessage, response: ServerResponse) => Promise<void> | void,
  answer: (response: ServerResponse, status: number, message: string) => void,
  onError?: (error: unknown) => void,
): RequestListener {
  const fail = (response: ServerResponse, error: unknown) => {
    const status = error instanceof URIError || error instanceof TypeError ? 400 : 500;
    if (status === 500) onError?.(error);
    try {
      if (response.headersSent) response.destroy();
      else answer(response, status, status === 400 ? 'the request could not be read' : 'internal error');
    } catch {
      response.destroy();
    }
  };
  return (request, response) => {
    try {
      const pending = listener(request, response);
      if (pending) pending.catch((error: unknown) => fail(response, error));
    } catch (error) {
      fail(response, error);
    }
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
