import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import type { TaskDetail } from '../results/queries.ts';
import { number, one, queueArg, time, UsageError, type Plan, type Values } from './args.ts';
import { filterOf } from './filter.ts';
import { age, table } from './format.ts';

/** The commands of Celery's CLI and Flower: sending, results, revocation, queues, dead letters, history, schedules. */
export function taskCommand(name: string, args: string[], values: Values): Plan | undefined {
  switch (name) {
    case 'send': {
      const task = one(args, 'send <task>');
      let payload: unknown = {};
      if (values.payload !== undefined) {
        const text = values.payload.startsWith('@') ? fileText(values.payload.slice(1)) : values.payload;
        try {
          payload = JSON.parse(text);
        } catch {
          throw new UsageError(`--payload must be JSON, e.g. --payload '{"userId": 1}', or @file with JSON in it${values.payload.startsWith('@') ? `; ${values.payload.slice(1)} is not` : ''}`);
        }
      }
      const countdown = number(values, 'countdown');
      const eta = time(values, 'eta');
      const expires = time(values, 'expires');
      const timeout = number(values, 'timeout', 60)!;
      const priority = values.priority;
      if (priority !== undefined && priority !== 'high' && priority !== 'normal') throw new UsageError(`--priority is high or normal, not ${priority}`);
      return async (backend, json, out) => {
        const sent = await backend.send(task, payload, { ...(priority ? { priority } : {}), ...(countdown !== undefined ? { countdown } : {}), ...(eta ? { eta } : {}), ...(expires ? { expires } : {}), ...(values.id ? { id: values.id } : {}), ...(values.tenant ? { tenant: values.tenant } : {}) });
        if (!values.wait) {
          out(json ? JSON.stringify(sent) : sent.id);
          return 0;
        }
        if (!json) out(sent.id);
        return printResult(await backend.result(sent.id, timeout * 1000), sent.id, json, out, true);
      };
    }
    case 'result': {
      const id = one(args, 'result <id>');
      const timeout = number(values, 'timeout', 60)!;
      return async (backend, json, out) => printResult(await backend.result(id, values.wait ? timeout * 1000 : 0), id, json, out, values.wait === true);
    }
    case 'revoke': {
      const id = one(args, 'revoke <id>');
      return async (backend, json, out) => {
        const outcome = await backend.revoke(id, values.reason ?? 'revoked from the CLI');
        out(json ? JSON.stringify(outcome) : outcome.status === 'REVOKED' ? `revoked ${id}` : `${id} is already ${outcome.status}; not revoked`);
        return outcome.status === 'REVOKED' ? 0 : 1;
      };
    }
    case 'retry': {
      const id = one(args, 'retry <id>, or retry with filter flags');
      return async (backend, json, out) => {
        const sent = await backend.retry(id);
        out(json ? JSON.stringify(sent) : `sent ${id} again to ${sent.queue}`);
        return 0;
      };
    }
    case 'queues':
      if (args.length > 0) throw new UsageError('queues takes no arguments');
      return async (backend, json, out) => {
        const depths = await backend.queues();
        out(json ? JSON.stringify(depths) : table(['QUEUE', 'LANE', 'WAITING', 'IN FLIGHT', 'DELAYED', 'DLQ', 'OLDEST'], depths.map((d) => [d.queue, d.priority, d.visible, d.inFlight, d.delayed, d.deadLetters, age(d.oldestAgeSeconds)])));
        return 0;
      };
    case 'dlq list': {
      const queue = queueArg(one(args, 'dlq list <queue>'));
      const limit = number(values, 'limit', 100)!;
      return async (backend, json, out) => {
        const letters = await backend.deadLetters(queue, limit);
        out(json ? JSON.stringify(letters) : letters.length === 0 ? `no dead letters on ${queue}` : table(['TASK ID', 'TASK', 'LANE', 'ATTEMPTS', 'FAILED AT', 'REASON'], letters.map((l) => [l.taskId, l.task, l.lane === queue ? 'normal' : 'high', l.attempts, l.failedAt, l.reason])));
        return 0;
      };
    }
    case 'dlq redrive': {
      const queue = queueArg(one(args, 'dlq redrive <queue>'));
      const taskIds = values.ids?.split(',').map((id) => id.trim()).filter(Boolean);
      if (values.ids !== undefined && !taskIds?.length) throw new UsageError('--ids takes task ids separated by commas');
      return async (backend, json, out) => {
        const bar = new SingleBar({ format: `redrive ${queue} [{bar}] {value}/{total}`, stream: process.stderr, noTTYOutput: false }, undefined);
        let started = false;
        const outcome = await backend.redrive(queue, {
          ...(taskIds ? { taskIds } : {}),
          onProgress: (done, total) => {
            if (!started) bar.start(total ?? done, 0);
            started = true;
            bar.setTotal(Math.max(total ?? done, done));
            bar.update(done);
          },
        });
        if (started) bar.stop();
        out(json ? JSON.stringify(outcome) : `moved ${outcome.moved} message${outcome.moved === 1 ? '' : 's'} from ${queue}'s dead-letter queue back to ${queue}`);
        if (!json) for (const letter of outcome.unmoved) out(`not moved: ${letter.taskId ?? letter.messageId}: ${letter.reason} (it stays in the dead-letter queue)`);
        return outcome.unmoved.length > 0 || (taskIds && outcome.moved < taskIds.length) ? 1 : 0;
      };
    }
    case 'dlq purge': {
      const queue = queueArg(one(args, 'dlq purge <queue>'));
      if (!values.yes) throw new UsageError(`dlq purge deletes every dead letter on ${queue}: add --yes to confirm`);
      return async (backend, json, out) => {
        const outcome = await backend.purge(queue);
        out(json ? JSON.stringify(outcome) : `purged ${outcome.purged} message${outcome.purged === 1 ? '' : 's'} from ${queue}'s dead-letter queue`);
        return 0;
      };
    }
    case 'history': {
      if (args.length > 0) throw new UsageError('history takes options only');
      const filter = filterOf(values);
      const limit = number(values, 'limit', 50)!;
      return async (backend, json, out) => {
        const tasks = await backend.history({ ...filter, limit });
        out(json ? JSON.stringify(tasks) : tasks.length === 0 ? 'no tasks match' : table(['ID', 'TASK', 'STATE', 'ATTEMPTS', 'CREATED', 'RUN MS'], tasks.map((t) => [t.id, t.name, t.status, t.attempts, t.createdAt, t.runtimeMs])));
        return 0;
      };
    }
    case 'schedules':
      if (args.length > 0) throw new UsageError('schedules takes no arguments, or run <name>');
      return async (backend, json, out) => {
        const schedules = await backend.schedules();
        out(json ? JSON.stringify(schedules) : table(['SCHEDULE', 'EXPRESSION', 'TASK', 'NEXT RUN'], schedules.map((s) => [s.name, s.expression, s.task, s.nextRuns[0]])));
        return 0;
      };
    case 'schedules run': {
      const schedule = one(args, 'schedules run <name>');
      return async (backend, json, out) => {
        const fired = await backend.runSchedule(schedule);
        out(json ? JSON.stringify(fired) : `fired ${schedule} as ${fired.id}`);
        return 0;
      };
    }
    default:
      return undefined;
  }
}

/** Exit code: 1 when nothing is recorded, or when a wait ends other than in SUCCESS (Celery's `get()` raising). */
function printResult(task: TaskDetail | undefined, id: string, json: boolean, out: (text: string) => void, waited: boolean): number {
  if (!task) {
    out(json ? JSON.stringify({ id, status: 'PENDING' }) : `${id} PENDING (not picked up yet)`);
    return 1;
  }
  if (json) out(JSON.stringify(task));
  else {
    out(`${task.id} ${task.status} after ${task.attempts} attempt${task.attempts === 1 ? '' : 's'}`);
    if (task.result !== null) out(JSON.stringify(task.result, null, 2));
    if (task.error) out(`error: ${task.error}`);
  }
  return waited && task.status !== 'SUCCESS' ? 1 : 0;
}

/** A payload file's text (`--payload @file`: for payloads longer than a command line takes). */
function fileText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--payload @${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}
