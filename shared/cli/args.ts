import type { parseArgs } from 'node:util';
import { queueNames, type QueueName } from '../catalogue/index.ts';
import type { Backend } from './backend.ts';

export const usage = `usage: taskq [--url URL | --stage NAME [--region R]] [--json] <command>

commands:
  send <task> --payload JSON|@FILE [--countdown S] [--eta ISO] [--expires ISO] [--id ID] [--tenant T] [--priority high|normal] [--wait] [--timeout S]
  result <id> [--wait] [--timeout S]
  revoke <id> [--reason TEXT]
  retry <id>
  retry|revoke|purge FILTER [--dry-run] [--reason TEXT (revoke)] [--yes (purge)]
      every FAILURE sent again | every unfinished task revoked | every finished task's record deleted
  queues
  dlq list <queue> [--limit N]
  dlq redrive <queue> [--ids ID,ID,...]
  dlq purge <queue> --yes
  history [FILTER] [--limit N]
  schedules
  schedules run <name>
  inspect active|scheduled|reserved [--limit N]
  inspect registered
  inspect stats [--minutes N]
  control rate-limit <task> <rate>          e.g. 10/m, 5/s, 100/h; 0 lifts the limit
  control time-limit <task> <soft> <hard>   e.g. 30s 1m (seconds when no unit)
  control concurrency <task> <limit>        at most this many at once per key; 0 lifts the limit
  control reset <task>
  control pause|resume <queue>
  purge <queue> --yes

FILTER: --status STATE --task NAME --since ISO --until ISO --search TEXT --tenant T (any of them)

--url    the local cloud's dashboard (default $TASKQ_URL or http://127.0.0.1:5555)
--stage  a deployed stage, found through its SSM parameters and stack outputs
--json   machine-readable output for every command
queues: ${queueNames.join(', ')}`;

/** A command line that cannot run: the usage is shown, and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const options = {
  url: { type: 'string' },
  stage: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  payload: { type: 'string' },
  countdown: { type: 'string' },
  tenant: { type: 'string' },
  priority: { type: 'string' },
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
  until: { type: 'string' },
  'dry-run': { type: 'boolean' },
  search: { type: 'string' },
  minutes: { type: 'string' },
} as const;

export type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

/** What a command does once its arguments are checked: nothing reaches an endpoint before. */
export type Plan = (backend: Backend, json: boolean, out: (text: string) => void) => Promise<number>;

export function number(values: Values, name: 'countdown' | 'timeout' | 'limit' | 'minutes', fallback?: number): number | undefined {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${name} takes a number ≥ 0, not ${text}`);
  return value;
}

/** A whole number within bounds, as the API takes `limit` and `minutes`. */
export function count(values: Values, name: 'limit' | 'minutes', bounds: { min: number; max: number; fallback: number }): number {
  const value = number(values, name, bounds.fallback)!;
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) throw new UsageError(`--${name} takes a whole number from ${bounds.min} to ${bounds.max}, not ${values[name]}`);
  return value;
}

export function time(values: Values, name: 'eta' | 'expires'): string | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  if (Number.isNaN(Date.parse(text))) throw new UsageError(`--${name} takes an ISO 8601 time, not ${text}`);
  return new Date(text).toISOString();
}

export function queueArg(value: string | undefined): QueueName {
  if (!value) throw new UsageError('a queue is required');
  if (!(queueNames as string[]).includes(value)) throw new UsageError(`unknown queue ${value}; the queues are ${queueNames.join(', ')}`);
  return value as QueueName;
}

export function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected ${what}`);
  return positionals[0]!;
}
