import type { ServerResponse } from 'node:http';
import * as z from 'zod';
import type { Priority } from '../catalogue/index.ts';
import { PermanentError, reasonOf } from '../errors.ts';
import { BulkFilterError, FilterError, filterFields, NotFoundError, parseFilter, type TaskOperations } from '../operations/index.ts';
import type { HistoryFilter } from '../results/queries.ts';
import { bulkRoute } from './api-bulk.ts';
import { inspectRoutes } from './api-inspect.ts';
import { intParam, queueParam } from './api-params.ts';
import type { Router } from './http.ts';
import { HttpError, readJson, sendJson } from './http.ts';

export { queueParam } from './api-params.ts';

/** A redrive's task ids; without them, every dead letter of the queue. */
const redriveIds = z.array(z.string().min(1).max(1000)).min(1).max(100_000);

/** The local cloud's JSON API: the operations of `taskq`, over HTTP. */
export function apiRoutes(router: Router, operations: TaskOperations, catalogue: () => unknown): Router {
  const json = (handler: (input: { params: Record<string, string>; url: URL; body: () => Promise<Record<string, unknown>> }) => Promise<unknown>) =>
    async (request: Parameters<Parameters<Router['on']>[2]>[0], response: ServerResponse, params: Record<string, string>, url: URL) => {
      const result = await handler({ params, url, body: () => readJson(request) });
      sendJson(response, 200, result);
    };
  return router
    .on('GET', '/api/queues', json(() => operations.queues()))
    .on('GET', '/api/catalogue', json(async () => catalogue()))
    .on('GET', '/api/tasks', json(async ({ url }) => operations.history(historyFilter(url.searchParams))))
    .on('POST', '/api/tasks', json(async ({ body }) => {
      const input = await body();
      if (typeof input.task !== 'string') throw new HttpError(400, 'task is required');
      return operations.send(input.task, input.payload ?? {}, {
        ...(typeof input.id === 'string' ? { id: input.id } : {}),
        ...(input.countdown !== undefined ? { countdown: countdownOf(input.countdown) } : {}),
        ...(typeof input.eta === 'string' ? { eta: input.eta } : {}),
        ...(typeof input.expires === 'string' ? { expires: input.expires } : {}),
        ...(typeof input.tenant === 'string' ? { tenant: input.tenant } : {}),
        ...(input.priority !== undefined ? { priority: priorityOf(input.priority) } : {}),
      });
    }))
    .on('GET', '/api/tasks/:id', async (request, response, params, url) => {
      const wait = intParam(url.searchParams, 'wait', { min: 0, max: 300_000, fallback: 0 });
      const gone = new AbortController();
      response.once('close', () => gone.abort());
      const task = wait > 0 ? await operations.wait(params.id!, wait, gone.signal) : await operations.result(params.id!);
      if (!task) throw new NotFoundError(`no task ${params.id}`);
      if (!gone.signal.aborted) sendJson(response, 200, task);
    })
    .on('POST', '/api/bulk/:action', (request, response, params) => bulkRoute(operations, request, response, params.action!))
    .on('POST', '/api/tasks/:id/revoke', json(async ({ params, body }) => {
      const input = await body();
      return operations.revoke(params.id!, typeof input.reason === 'string' && input.reason ? input.reason : 'revoked');
    }))
    .on('POST', '/api/tasks/:id/retry', json(({ params }) => operations.retry(params.id!)))
    .on('GET', '/api/dlq/:queue', json(({ params, url }) => operations.deadLetters(queueParam(params.queue!), intParam(url.searchParams, 'limit', { min: 1, max: 1000, fallback: 100 }))))
    .on('POST', '/api/dlq/:queue/redrive', async (request, response, params) => {
      const input = await readJson(request);
      // Anything but an array of ids is refused: read leniently, a malformed list would redrive every dead letter.
      const ids = input.taskIds === undefined ? undefined : redriveIds.safeParse(input.taskIds);
      if (ids && !ids.success) throw new HttpError(400, 'taskIds must be a non-empty array of task ids (leave it out to redrive every dead letter)');
      const taskIds = ids?.data;
      const queue = queueParam(params.queue!);
      // Progress as newline-delimited JSON, one line per batch moved, then the outcome.
      response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
      const outcome = await operations
        .redrive(queue, { ...(taskIds ? { taskIds } : {}), onProgress: (done, total) => response.write(`${JSON.stringify({ done, total })}\n`) })
        .catch((error: unknown) => ({ error: reasonOf(error) }));
      response.end(`${JSON.stringify(outcome)}\n`);
    })
    .on('POST', '/api/dlq/:queue/purge', json(({ params }) => operations.purge(queueParam(params.queue!))))
    .on('GET', '/api/schedules', json(async () => operations.schedules()))
    .on('POST', '/api/schedules/:name/run', json(({ params }) => operations.runSchedule(params.name!)))
    .on('GET', '/api/stats', json(({ url }) => operations.stats(intParam(url.searchParams, 'minutes', { min: 1, max: 7 * 24 * 60, fallback: 60 }))))
    .on('GET', '/api/inspect/:what', json(({ params, url }) => inspectRoutes.read(operations, params.what!, url.searchParams)))
    .on('POST', '/api/control/tasks/:task/:action', json(async ({ params, body }) => inspectRoutes.changeTask(operations, params.task!, params.action!, await body())))
    .on('POST', '/api/control/queues/:queue/:action', json(({ params }) => inspectRoutes.changeQueue(operations, queueParam(params.queue!), params.action!)))
    .on('POST', '/api/queues/:queue/purge', json(({ params }) => operations.purgeQueue(queueParam(params.queue!))));
}

export function historyFilter(query: URLSearchParams): HistoryFilter {
  return {
    ...parseFilter(Object.fromEntries(filterFields.map((field) => [field, query.get(field) ?? undefined]))),
    ...(query.get('limit') ? { limit: intParam(query, 'limit', { min: 1, max: 1000, fallback: 50 }) } : {}),
  };
}

/** A countdown in seconds: a number within a year (an ETA beyond that is a date, not a countdown). */
function priorityOf(value: unknown): Priority {
  if (value !== 'normal' && value !== 'high') throw new HttpError(400, 'priority must be "normal" or "high"');
  return value;
}

function countdownOf(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 366 * 24 * 3600) throw new HttpError(400, 'countdown must be a number of seconds from 0 to 31,622,400 (a year)');
  return value;
}

/** The HTTP status an operation's error maps to. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof PermanentError || error instanceof z.ZodError || error instanceof FilterError || error instanceof BulkFilterError) return 400;
  if (error instanceof Error && /only a FAILURE can be retried|summarised/.test(error.message)) return 409;
  // SQS allows one purge per queue a minute.
  if (error instanceof Error && error.name === 'PurgeQueueInProgress') return 409;
  return 500;
}
