import { parseDuration, parseRate, policyChangeErrors, policyRefreshMs, queues, type PolicyChange, type QueueName } from '../catalogue/index.ts';
import type { QueueStats, RegisteredTask, ReservedView, ScheduledView } from '../operations/index.ts';
import { resolveTask } from '../producer/send.ts';
import { count, one, queueArg, UsageError, type Plan, type Values } from './args.ts';
import { table } from './format.ts';

/** `inspect`, `control` and `purge`: what Celery's remote control offers, which it cannot do over SQS. */
export function operatorCommand(name: string, args: string[], values: Values): Plan | undefined {
  const limit = () => count(values, 'limit', { min: 1, max: 1000, fallback: 500 });
  const none = (what: string) => {
    if (args.length > 0) throw new UsageError(`${what} takes no arguments`);
  };
  switch (name) {
    case 'inspect active': {
      none(name);
      const max = limit();
      return async (backend, json, out) => {
        const active = await backend.active(max);
        out(json ? JSON.stringify(active) : active.length === 0 ? 'nothing is running' : table(
          ['ID', 'TASK', 'QUEUE', 'STARTED', 'ATTEMPT', 'CONSUMER', 'LEASE UNTIL'],
          active.map((t) => [t.id, t.task, t.queue, t.startedAt, t.attempt, t.consumer, `${t.leaseExpiresAt}${t.leaseExpired ? ' (expired: its invocation ended without an outcome)' : ''}`]),
        ));
        return 0;
      };
    }
    case 'inspect scheduled': {
      none(name);
      const max = limit();
      return async (backend, json, out) => printScheduled(await backend.scheduled(max), json, out);
    }
    case 'inspect reserved': {
      none(name);
      const max = limit();
      return async (backend, json, out) => printReserved(await backend.reserved(max), json, out);
    }
    case 'inspect registered':
      none(name);
      return async (backend, json, out) => {
        const registered = await backend.registered();
        out(json ? JSON.stringify(registered) : `${table(['TASK', 'QUEUE', 'RATE LIMIT', 'SOFT LIMIT', 'HARD LIMIT', 'AT ONCE', 'ONCE PER', 'TENANT', 'PRIORITY', 'RETRIES', 'BACK-OFF MAX', 'CELERY NAME'], registered.map((t) => [
          t.name, t.queue, shown(t.rateLimit, (rate) => rate), shown(t.softTimeLimitSeconds, seconds), shown(t.timeLimitSeconds, seconds),
          shown(t.concurrency, (limit) => (t.concurrency.key ? `${limit}/${t.concurrency.key}` : String(limit))),
          t.dedupe ? `${t.dedupe.mode} ${t.dedupe.window}` : '', t.tenant ?? '', t.priority, t.retry.maxRetries, seconds(t.retry.backoffMaxSeconds), t.alias,
        ]))}\n* changed at run time; taskq control reset <task> restores the catalogue's`);
        return 0;
      };
    case 'inspect stats': {
      none(name);
      const minutes = count(values, 'minutes', { min: 1, max: 7 * 24 * 60, fallback: 60 });
      return async (backend, json, out) => printStats(await backend.queueStats(minutes), json, out);
    }
    case 'control rate-limit': {
      if (args.length !== 2) throw new UsageError('expected control rate-limit <task> <rate>, e.g. control rate-limit ai.process_ai_request 10/m');
      const [task, rate] = args as [string, string];
      return changing(task, { kind: 'rate-limit', rate }, (t) => `rate limit of ${t.name} is now ${t.rateLimit.effective ?? 'none'} (the catalogue's: ${t.rateLimit.catalogue ?? 'none'})`);
    }
    case 'control time-limit': {
      if (args.length !== 3) throw new UsageError('expected control time-limit <task> <soft> <hard>, e.g. control time-limit data.export_data 2m 4m');
      const [task, soft, hard] = args as [string, string, string];
      const softSeconds = parseDuration(soft);
      const hardSeconds = parseDuration(hard);
      if (softSeconds === undefined || hardSeconds === undefined) throw new UsageError(`time limits look like 90, 90s, 1.5m or 500ms; not ${softSeconds === undefined ? soft : hard}`);
      return changing(task, { kind: 'time-limit', softSeconds, hardSeconds }, (t) => `time limits of ${t.name} are now soft ${seconds(t.softTimeLimitSeconds.effective!)}, hard ${seconds(t.timeLimitSeconds.effective!)}`);
    }
    case 'control concurrency': {
      if (args.length !== 2) throw new UsageError('expected control concurrency <task> <limit>, e.g. control concurrency data.export_data 2');
      const [task, text] = args as [string, string];
      if (!/^\d{1,4}$/.test(text)) throw new UsageError(`a concurrency limit is a whole number from 1 to 1000, and 0 lifts the limit; not ${text}`);
      const per = (t: { concurrency: { key: string | null } }) => (t.concurrency.key ? `per ${t.concurrency.key}` : 'in all');
      return changing(task, { kind: 'concurrency', limit: Number(text) }, (t) => `concurrency of ${t.name} is now ${t.concurrency.effective ?? 'unlimited'} ${t.concurrency.effective ? per(t) : ''}`.trimEnd() + ` (the catalogue's: ${t.concurrency.catalogue ?? 'none'})`);
    }
    case 'control reset': {
      const task = known(one(args, 'control reset <task>'));
      return async (backend, json, out) => {
        const reset = await backend.resetPolicy(task);
        out(json ? JSON.stringify(reset) : reset.reset ? `${reset.name} runs with the catalogue's policy again, on every consumer within ${policyRefreshMs / 1000} s` : `${reset.name} had no run-time changes`);
        return 0;
      };
    }
    case 'control pause':
    case 'control resume': {
      const queue = queueArg(one(args, `${name} <queue>`));
      const enabled = name === 'control resume';
      return async (backend, json, out) => {
        const source = await backend.setConsumer(queue, enabled);
        out(json ? JSON.stringify(source) : enabled
          ? `resumed ${queue}: its consumer receives again (${source.state})`
          : `paused ${queue}: its consumer receives nothing until taskq control resume ${queue}; invocations under way finish (${source.state})`);
        return 0;
      };
    }
    case 'purge': {
      const queue = queueArg(one(args, 'purge <queue> --yes'));
      if (!values.yes) throw new UsageError(`purge deletes every message waiting on ${queue}, delayed and in flight ones included: add --yes to confirm`);
      return async (backend, json, out) => {
        const outcome = await backend.purgeQueue(queue);
        out(json ? JSON.stringify(outcome) : `purged ${outcome.purged} message${outcome.purged === 1 ? '' : 's'} from ${queue}`);
        return 0;
      };
    }
    default:
      return undefined;
  }
}

/** A catalogue task by name or Celery alias, refused as a usage error before any endpoint is reached. */
function known(task: string): string {
  try {
    return resolveTask(task).name;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A policy change checked against the catalogue here, so a bad one never reaches the store. */
function changing(task: string, change: PolicyChange, describe: (task: RegisteredTask) => string): Plan {
  const definition = resolveTask(known(task));
  if (change.kind === 'rate-limit' && !parseRate(change.rate)) throw new UsageError(`a rate looks like 10/s, 60/m, 100/h or 5 (per second), and 0 lifts the limit; not ${change.rate}`);
  const errors = policyChangeErrors(definition, queues[definition.queue as QueueName], change);
  if (errors.length > 0) throw new UsageError(errors.join('; '));
  return async (backend, json, out) => {
    const changed = await backend.changePolicy(definition.name, change);
    out(json ? JSON.stringify(changed) : `${describe(changed)}; every consumer applies it within ${policyRefreshMs / 1000} s, without a deploy`);
    return 0;
  };
}

const seconds = (value: number) => `${Number(value.toFixed(3))}s`;

/** A policy value as the table shows it: the effective one, starred when an operator changed it. */
function shown<T>(value: { readonly override: T | null; readonly effective: T | null }, format: (value: T) => string): string {
  const effective = value.effective === null ? 'none' : format(value.effective);
  return value.override === null ? effective : `${effective}*`;
}

function printScheduled(view: ScheduledView, json: boolean, out: (text: string) => void): number {
  if (json) {
    out(JSON.stringify(view));
    return 0;
  }
  out(view.tasks.length === 0 ? 'nothing is scheduled' : table(['DUE', 'KIND', 'ID', 'TASK', 'QUEUE'], view.tasks.map((t) => [t.eta ?? 'after its back-off', t.kind, t.id, t.task, t.queue])));
  if (!view.listed) out(`delayed messages, which SQS counts but does not show: ${view.delayed.map((d) => `${d.queue} ${d.messages}`).join(', ')}`);
  return 0;
}

function printReserved(view: ReservedView, json: boolean, out: (text: string) => void): number {
  if (json) {
    out(JSON.stringify(view));
    return 0;
  }
  out(table(['QUEUE', 'IN FLIGHT', 'RUNNING', 'RETRYING', 'RESERVED'], view.queues.map((q) => [q.queue, q.inFlight, q.running, q.retrying, view.listed ? q.reserved : `~${q.reserved}`])));
  if (!view.listed) out('~ SQS shows in-flight messages only as a count: reserved is in flight less running and retrying');
  else if (view.tasks.length > 0) out(`\n${table(['ID', 'TASK', 'QUEUE', 'RECEIVES', 'HIDDEN UNTIL'], view.tasks.map((t) => [t.id, t.task, t.queue, t.receiveCount, t.hiddenUntil]))}`);
  return 0;
}

function printStats(stats: readonly QueueStats[], json: boolean, out: (text: string) => void): number {
  if (json) {
    out(JSON.stringify(stats));
    return 0;
  }
  const ms = (l: QueueStats['runMs']) => [l.p50, l.p95, l.p99].map((v) => v ?? '–').join('/');
  out(table(
    ['QUEUE', 'CONSUMER', 'PER MIN', 'OK', 'FAILED', 'RETRIED', 'WAIT MS p50/95/99', 'RUN MS p50/95/99', 'CONCURRENCY', 'WAITING', 'IN FLIGHT', 'DELAYED', 'DLQ'],
    stats.map((s) => [s.queue, s.consumer, s.throughputPerMinute, s.succeeded, s.failed, s.retried, ms(s.waitMs), ms(s.runMs), `${s.concurrency.inUse}/${s.concurrency.maximum}`, s.depth.waiting, s.depth.inFlight, s.depth.delayed, s.deadLetters]),
  ));
  out(`over the last ${stats[0]?.minutes ?? 0} minutes`);
  for (const s of stats) if (s.consumerError) out(`${s.queue}: consumer state unknown: ${s.consumerError}`);
  return 0;
}
