import type { IncomingMessage } from 'node:http';
import { formToken } from '../guard.ts';
import { HttpError, readForm } from '../http.ts';

/** A form posted by one of the dashboard's own pages: it carries the form token a page of another origin cannot read. */
export async function readActionForm(request: IncomingMessage): Promise<URLSearchParams> {
  const form = await readForm(request);
  if (form.get('csrf') !== formToken) throw new HttpError(403, 'this form did not come from the dashboard (or the dashboard restarted since): reload the page and try again');
  return form;
}

export const back = (path: string, notice: string) => `${path}${path.includes('?') ? '&' : '?'}notice=${encodeURIComponent(notice)}`;

/** Where a failed action goes back to, saying why. */
export const failed = (path: string, error: string) => `${path}${path.includes('?') ? '&' : '?'}error=${encodeURIComponent(error)}`;
