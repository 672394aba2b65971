import type { ServerResponse } from 'node:http';
import { z, ZodError } from 'zod';
import { queueNames, type QueueName } from '../catalogue/index.ts';
import { PermanentError, reasonOf } from '../errors.ts';
import { NotFoundError, type TaskOperations } from '../operations/index.ts';
import { isTaskStatus, type HistoryFilter } from '../results/queries.ts';
import type { TaskStatus } from '../results/schema.ts';
import type { Router} from './http.ts';
import { HttpError, readJson, sendJson } from './http.ts';

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
        ...(typeof input.countdown === 'number' ? { countdown: input.countdown } : {}),
        ...(typeof input.eta === 'string' ? { eta: input.eta } : {}),
        ...(typeof input.expires === 'string' ? { expires: input.expires } : {}),
      });
    }))
    .on('GET', '/api/tasks/:id', json(async ({ params, url }) => {
      const wait = Number(url.searchParams.get('wait') ?? 0);
      const task = wait > 0 ? await operations.wait(params.id!, Math.min(wait, 300_000)) : await operations.result(params.id!);
      if (!task) throw new NotFoundError(`no task ${params.id}`);
      return task;
    }))
    .on('POST', '/api/tasks/:id/revoke', json(async ({ params, body }) => {
      const input = await body();
      return operations.revoke(params.id!, typeof input.reason === 'string' && input.reason ? input.reason : 'revoked');
    }))
    .on('POST', '/api/tasks/:id/retry', json(({ params }) => operations.retry(params.id!)))
    .on('GET', '/api/dlq/:queue', json(({ params, url }) => operations.deadLetters(queueParam(params.queue!), Number(url.searchParams.get('limit') ?? 100))))
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
    .on('GET', '/api/stats', json(({ url }) => operations.stats(Number(url.searchParams.get('minutes') ?? 60))));
}

export function historyFilter(query: URLSearchParams): HistoryFilter {
  const statusText = query.get('status') || undefined;
  if (statusText && !isTaskStatus(statusText)) throw new HttpError(400, `unknown status ${statusText}`);
  const status = statusText as TaskStatus | undefined;
  const since = query.get('since') || undefined;
  if (since && Number.isNaN(Date.parse(since))) throw new HttpError(400, `since is not a time: ${since}`);
  return {
    ...(status ? { status } : {}),
    ...(query.get('task') ? { task: query.get('task')! } : {}),
    ...(since ? { since } : {}),
    ...(query.get('search') ? { search: query.get('search')! } : {}),
    ...(query.get('limit') ? { limit: Number(query.get('limit')) } : {}),
  };
}

export function queueParam(queue: string): QueueName {
  if (!(queueNames as string[]).includes(queue)) throw new HttpError(404, `no queue ${queue}; the queues are ${queueNames.join(', ')}`);
  return queue as QueueName;
}

/** The HTTP status an operation's error maps to. */
export function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof PermanentError || error instanceof ZodError) return 400;
  if (error instanceof Error && /only a FAILURE can be retried|summarised/.test(error.message)) return 409;
  return 500;
}
