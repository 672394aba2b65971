import type { QueueName } from '../catalogue/index.ts';
import type { TaskOperations } from '../operations/index.ts';
import { intParam } from './api-params.ts';
import { HttpError } from './http.ts';

/** A number of seconds in a request body: positive and finite, as `control time-limit` sends it. */
function seconds(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new HttpError(400, `${name} must be a positive number of seconds`);
  return value;
}

/** The API of `taskq inspect` and `taskq control`: reads by name, changes by task or queue. */
export const inspectRoutes = {
  read(operations: TaskOperations, what: string, query: URLSearchParams): Promise<unknown> {
    const limit = () => intParam(query, 'limit', { min: 1, max: 1000, fallback: 500 });
    switch (what) {
      case 'active':
        return operations.active(limit());
      case 'scheduled':
        return operations.scheduled(limit());
      case 'reserved':
        return operations.reserved(limit());
      case 'registered':
        return operations.registered();
      case 'stats':
        return operations.queueStats(intParam(query, 'minutes', { min: 1, max: 7 * 24 * 60, fallback: 60 }));
      default:
        throw new HttpError(404, `no inspection ${what.slice(0, 100)}; there are active, scheduled, reserved, registered and stats`);
    }
  },

  changeTask(operations: TaskOperations, task: string, action: string, body: Record<string, unknown>): Promise<unknown> {
    switch (action) {
      case 'rate-limit':
        if (typeof body.rate !== 'string') throw new HttpError(400, 'rate is required, e.g. {"rate": "10/m"}');
        return operations.changePolicy(task, { kind: 'rate-limit', rate: body.rate });
      case 'time-limit':
        return operations.changePolicy(task, { kind: 'time-limit', softSeconds: seconds(body.soft, 'soft'), hardSeconds: seconds(body.hard, 'hard') });
      case 'concurrency':
        if (typeof body.limit !== 'number' || !Number.isInteger(body.limit)) throw new HttpError(400, 'limit is required, a whole number, e.g. {"limit": 2}');
        return operations.changePolicy(task, { kind: 'concurrency', limit: body.limit });
      case 'reset':
        return operations.resetPolicy(task);
      default:
        throw new HttpError(404, `no task control ${action.slice(0, 100)}; there are rate-limit, time-limit, concurrency and reset`);
    }
  },

  changeQueue(operations: TaskOperations, queue: QueueName, action: string): Promise<unknown> {
    if (action !== 'pause' && action !== 'resume') throw new HttpError(404, `no queue control ${action.slice(0, 100)}; there are pause and resume`);
    return operations.setConsumer(queue, action === 'resume');
  },
};
