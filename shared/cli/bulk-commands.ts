import { SingleBar } from 'cli-progress';
import { BulkFilterError, bulkStatuses, type BulkAction, type BulkOutcome } from '../operations/index.ts';
import { UsageError, type Plan, type Values } from './args.ts';
import { filtered, filterFields, filterOf } from './filter.ts';
import { table } from './format.ts';

const past: Record<BulkAction, string> = { retry: 'retried', revoke: 'revoked', purge: 'purged' };
const single: Record<BulkAction, string> = { retry: 'retry <id>', revoke: 'revoke <id>', purge: 'purge <queue>' };

/**
 * `retry`, `revoke` and `purge` over a filter: what Celery does one id (or one whole queue) at a
 * time, for every task that matches. Any filter flag selects this form; `--dry-run` counts first.
 */
export function bulkCommand(name: string, args: string[], values: Values): Plan | undefined {
  const action = (['retry', 'revoke', 'purge'] as const).find((a) => a === name);
  if (!action || !filtered(values)) {
    if (values['dry-run']) throw new UsageError(`--dry-run goes with a filter: ${filterFields.map((f) => `--${f}`).join(', ')}`);
    return undefined;
  }
  if (args.length > 0) throw new UsageError(`${single[action]} or ${action} with filter flags, not both`);
  const filter = filterOf(values);
  try {
    bulkStatuses(action, filter);
  } catch (error) {
    if (error instanceof BulkFilterError) throw new UsageError(error.message.replace('status', '--status'));
    throw error;
  }
  const dryRun = values['dry-run'] === true;
  if (action === 'purge' && !dryRun && !values.yes) throw new UsageError('purge by filter deletes the record of every finished task that matches: count them first with --dry-run, then add --yes');
  return async (backend, json, out) => {
    const stop = new AbortController();
    const interrupt = () => stop.abort();
    // The first Ctrl-C stops after the page under way; a second one ends the process at once.
    process.once('SIGINT', interrupt);
    const progress = progressOf(action, json);
    try {
      const outcome = await backend.bulk(action, filter, { dryRun, ...(values.reason ? { reason: values.reason } : {}), signal: stop.signal, onProgress: progress.update });
      progress.stop();
      return print(outcome, json, out);
    } catch (error) {
      progress.stop();
      if (!stop.signal.aborted) throw error;
      out(json ? JSON.stringify({ action, interrupted: true }) : `interrupted: what was ${past[action]} stays so; run the same command again to do the rest`);
      return 1;
    } finally {
      process.off('SIGINT', interrupt);
    }
  };
}

/** A bar on a terminal, a line per page otherwise, nothing with --json (whose output is the outcome alone). */
function progressOf(action: BulkAction, json: boolean) {
  if (json) return { update: () => undefined, stop: () => undefined };
  if (!process.stderr.isTTY) return { update: (done: number, total: number | undefined) => void process.stderr.write(`${action}: ${done}/${total ?? done}\n`), stop: () => undefined };
  const bar = new SingleBar({ format: `${action} [{bar}] {value}/{total}`, stream: process.stderr }, undefined);
  let started = false;
  return {
    update: (done: number, total: number | undefined) => {
      if (!started) bar.start(Math.max(total ?? done, done), 0);
      started = true;
      bar.setTotal(Math.max(total ?? done, done));
      bar.update(done);
    },
    stop: () => started && bar.stop(),
  };
}

function print(outcome: BulkOutcome, json: boolean, out: (text: string) => void): number {
  const { action, matched } = outcome;
  const tasks = (n: number) => `${n} task${n === 1 ? '' : 's'}`;
  if (json) out(JSON.stringify(outcome));
  else if (outcome.dryRun) {
    out(`would ${action} ${tasks(matched)} (nothing done: this was a dry run)`);
    if (outcome.examples.length > 0) out(table(['ID', 'TASK', 'STATE', 'CREATED'], outcome.examples.map((t) => [t.id, t.name, t.status, t.createdAt])));
    if (matched > outcome.examples.length) out(`… and ${matched - outcome.examples.length} more`);
  } else {
    out(`${past[action]} ${outcome.affected} of ${tasks(matched)} matching${outcome.interrupted ? ' before it was interrupted: run the same command again to do the rest' : ''}`);
    for (const skipped of outcome.skipped) out(`not ${past[action]}: ${skipped.id}: ${skipped.reason}`);
  }
  return outcome.dryRun || (outcome.skipped.length === 0 && !outcome.interrupted) ? 0 : 1;
}
