import type { IncomingMessage, ServerResponse } from 'node:http';
import { reasonOf } from '../errors.ts';
import { bulkStatuses, filterFields, hasFilter, parseFilter, type BulkAction, type TaskOperations } from '../operations/index.ts';
import { bulkActions } from '../results/bulk.ts';
import { HttpError, readJson } from './http.ts';

/**
 * `POST /api/bulk/{retry,revoke,purge}` with the filter's fields, `dryRun` and (revoke) `reason`:
 * progress as newline-delimited JSON, a line per page, then the outcome. A client that goes
 * away stops the run after the page under way, and the same request again does the rest.
 */
export async function bulkRoute(operations: TaskOperations, request: IncomingMessage, response: ServerResponse, actionText: string): Promise<void> {
  if (!(bulkActions as readonly string[]).includes(actionText)) throw new HttpError(404, `no bulk action ${actionText.slice(0, 100)}; they are ${bulkActions.join(', ')}`);
  const action = actionText as BulkAction;
  const input = await readJson(request);
  const fields = Object.fromEntries(filterFields.map((field) => [field, stringField(input, field)]));
  if (!hasFilter(fields)) throw new HttpError(400, `a bulk ${action} needs a filter: one of ${filterFields.join(', ')} (status FAILURE, say, for every failure)`);
  const filter = parseFilter(fields);
  bulkStatuses(action, filter);
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean') throw new HttpError(400, 'dryRun must be true or false');
  const reason = stringField(input, 'reason');
  const gone = new AbortController();
  response.once('close', () => gone.abort());
  response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const outcome = await operations
    .bulk(action, filter, {
      dryRun: input.dryRun === true,
      ...(reason ? { reason } : {}),
      signal: gone.signal,
      onProgress: (done, total) => response.write(`${JSON.stringify({ done, total })}\n`),
    })
    .catch((error: unknown) => ({ error: reasonOf(error) }));
  response.end(`${JSON.stringify(outcome)}\n`);
}

function stringField(input: Record<string, unknown>, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new HttpError(400, `${name} must be text`);
  return value;
}
