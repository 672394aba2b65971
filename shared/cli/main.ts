/**
 * `taskq`: Celery's `inspect`/`control` and Flower's history from the shell, against the
 * local cloud's API by default, or a deployed stage with `--stage`.
 */
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { queueNames, type QueueName } from '../catalogue/index.ts';
import type { Environment } from '../config.ts';
import { reasonOf } from '../errors.ts';
import { isTaskStatus } from '../results/queries.ts';
import type { TaskDetail } from '../results/queries.ts';
import { ApiError, HttpBackend, UnreachableError, type Backend } from './backend.ts';
import { age, printable, table } from './format.ts';

const usage = `usage: taskq [--url URL | --stage NAME [--region R]] [--json] <command>

commands:
  send <task> --payload JSON [--countdown S] [--eta ISO] [--expires ISO] [--id ID] [--wait] [--timeout S]
  result <id> [--wait] [--timeout S]
  revoke <id> [--reason TEXT]
  queues
  dlq list <queue> [--limit N]
  dlq redrive <queue> [--ids ID,ID,...]
  dlq purge <queue> --yes
  history [--status STATE] [--task NAME] [--since ISO] [--search TEXT] [--limit N]
  schedules
  schedules run <name>

--url    the local cloud's dashboard (default $TASKQ_URL or http://127.0.0.1:5555)
--stage  a deployed stage, found through its SSM parameters and stack outputs
--json   machine-readable output for every read command
queues: ${queueNames.join(', ')}`;

class UsageError extends Error {
  override name = 'UsageError';
}

const options = {
  url: { type: 'string' },
  stage: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  payload: { type: 'string' },
  countdown: { type: 'string' },
  eta: { type: 'string' },
  expires: { type: 'string' },
  id: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  reason: { type: 'string' },
  limit: { type: 'string' },
  ids: { type: 'string' },
  yes: { type: 'boolean' },
  status: { type: 'string' },
  task: { type: 'string' },
  since: { type: 'string' },
  search: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const global = ['url', 'stage', 'region', 'json', 'help'];
/** The options each command takes beyond the global ones. */
const accepted: Record<string, readonly string[]> = {
  send: ['payload', 'countdown', 'eta', 'expires', 'id', 'wait', 'timeout'],
  result: ['wait', 'timeout'],
  revoke: ['reason'],
  queues: [],
  'dlq list': ['limit'],
  'dlq redrive': ['ids'],
  'dlq purge': ['yes'],
  history: ['status', 'task', 'since', 'search', 'limit'],
  schedules: [],
  'schedules run': [],
};

function number(values: Values, name: 'countdown' | 'timeout' | 'limit', fallback?: number): number | undefined {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${name} takes a number ≥ 0, not ${text}`);
  return value;
}

function time(values: Values, name: 'eta' | 'expires' | 'since'): string | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  if (Number.isNaN(Date.parse(text))) throw new UsageError(`--${name} takes an ISO 8601 time, not ${text}`);
  return new Date(text).toISOString();
}

function queueArg(value: string | undefined): QueueName {
  if (!value) throw new UsageError('a queue is required');
  if (!(queueNames as string[]).includes(value)) throw new UsageError(`unknown queue ${value}; the queues are ${queueNames.join(', ')}`);
  return value as QueueName;
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected ${what}`);
  return positionals[0]!;
}

async function run(argv: string[], env: Environment, out: (text: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    out(usage);
    return values.help ? 0 : 2;
  }
  const [command, ...rest] = positionals;
  const name = (command === 'dlq' || (command === 'schedules' && rest[0] === 'run')) && rest[0] ? `${command} ${rest[0]}` : command!;
  const args = name.includes(' ') ? rest.slice(1) : rest;
  const allowed = accepted[name];
  if (!allowed) throw new UsageError(command === 'dlq' ? 'dlq takes list, redrive or purge' : `unknown command ${command}`);
  const stray = Object.keys(values).filter((key) => !global.includes(key) && !allowed.includes(key));
  if (stray.length > 0) throw new UsageError(`${name} does not take ${stray.map((s) => `--${s}`).join(', ')}`);
  if (values.url && values.stage) throw new UsageError('--url and --stage exclude each other');

  // Check every argument before reaching any endpoint.
  const plan = prepare(name, args, values);
  const backend: Backend = values.stage
    ? await (await import('./stage.ts')).stageBackend(values.stage, values.region)
    : new HttpBackend(values.url ?? env.TASKQ_URL ?? 'http://127.0.0.1:5555');
  try {
    return await plan(backend, values.json === true, out);
  } finally {
    await backend.close();
  }
}

type Plan = (backend: Backend, json: boolean, out: (text: string) => void) => Promise<number>;

function prepare(name: string, args: string[], values: Values): Plan {
  switch (name) {
    case 'send': {
      const task = one(args, 'send <task>');
      let payload: unknown = {};
      if (values.payload !== undefined) {
        try {
          payload = JSON.parse(values.payload);
        } catch {
          throw new UsageError('--payload must be JSON, e.g. --payload \'{"userId": 1}\'');
        }
      }
      const countdown = number(values, 'countdown');
      const eta = time(values, 'eta');
      const expires = time(values, 'expires');
      const timeout = number(values, 'timeout', 60)!;
      return async (backend, json, out) => {
        const sent = await backend.send(task, payload, { ...(countdown !== undefined ? { countdown } : {}), ...(eta ? { eta } : {}), ...(expires ? { expires } : {}), ...(values.id ? { id: values.id } : {}) });
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
    case 'queues':
      if (args.length > 0) throw new UsageError('queues takes no arguments');
      return async (backend, json, out) => {
        const depths = await backend.queues();
        out(json ? JSON.stringify(depths) : table(['QUEUE', 'WAITING', 'IN FLIGHT', 'DELAYED', 'DLQ', 'OLDEST'], depths.map((d) => [d.queue, d.visible, d.inFlight, d.delayed, d.deadLetters, age(d.oldestAgeSeconds)])));
        return 0;
      };
    case 'dlq list': {
      const queue = queueArg(one(args, 'dlq list <queue>'));
      const limit = number(values, 'limit', 100)!;
      return async (backend, json, out) => {
        const letters = await backend.deadLetters(queue, limit);
        out(json ? JSON.stringify(letters) : letters.length === 0 ? `no dead letters on ${queue}` : table(['TASK ID', 'TASK', 'ATTEMPTS', 'FAILED AT', 'REASON'], letters.map((l) => [l.taskId, l.task, l.attempts, l.failedAt, l.reason])));
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
      if (values.status && !isTaskStatus(values.status)) throw new UsageError(`--status takes PENDING, STARTED, RETRY, SUCCESS, FAILURE or REVOKED, not ${values.status}`);
      const since = time(values, 'since');
      const limit = number(values, 'limit', 50)!;
      return async (backend, json, out) => {
        const tasks = await backend.history({
          ...(values.status && isTaskStatus(values.status) ? { status: values.status } : {}),
          ...(values.task ? { task: values.task } : {}),
          ...(since ? { since } : {}),
          ...(values.search ? { search: values.search } : {}),
          limit,
        });
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
      throw new UsageError(`unknown command ${name}`);
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

try {
  process.exitCode = await run(process.argv.slice(2), process.env, (text) => console.log(printable(text)));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`taskq: ${printable(error.message)}\n\n${usage}`);
    process.exitCode = 2;
  } else if (error instanceof UnreachableError || error instanceof ApiError) {
    console.error(`taskq: ${printable(error.message)}`);
    process.exitCode = 1;
  } else {
    console.error(`taskq: ${printable(reasonOf(error))}`);
    process.exitCode = 1;
  }
}
