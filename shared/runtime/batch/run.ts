import type { Logger } from '@aws-lambda-powertools/logger';
import { TaskRevokedError } from '../../errors.ts';
import { revokedAmong } from '../../results/statements.ts';
import { executeTask, type Execution } from '../execute.ts';
import type { Attempt } from './decide.ts';
import type { TaskPolicies } from './policies.ts';
import type { BatchContext } from './settings.ts';

/**
 * Runs the claimed attempts together, each under its time limits in force (the catalogue's,
 * or an operator's change) and the invocation's deadline; while any runs, one statement
 * every few seconds looks for revocations of them.
 */
export async function runAttempts(attempts: readonly Attempt[], batch: BatchContext, policies: TaskPolicies): Promise<Execution[]> {
  if (attempts.length === 0) return [];
  const { settings } = batch;
  const database = await settings.database();
  const running = new Map<string, (reason: Error) => void>();
  const watch = setInterval(() => void abortRevoked(running, batch), settings.revocationCheckMs ?? 5_000);
  watch.unref();
  try {
    return await Promise.all(
      attempts.map(async (started) => {
        const { envelope, implementation, payload } = started.plan;
        const task = implementation.definition;
        const limits = policies.of(task);
        const remaining = batch.deadline - Date.now();
        const parentLogger = settings.logger;
        let logger: Logger | undefined;
        try {
          return await executeTask(
            implementation,
            payload,
            (signal) => ({
              id: envelope.id,
              name: task.name,
              queue: settings.queue.name,
              attempt: started.attempt,
              maxRetries: task.retry.maxRetries,
              signal,
              // Built on first use: a child logger costs more than a short task, and most tasks never log.
              get logger() {
                return (logger ??= parentLogger.createChild({ persistentKeys: started.fields }));
              },
              envelope,
              database,
              services: settings.services,
            }),
            {
              softLimitMs: Math.min(limits.softTimeLimitSeconds * 1000, remaining),
              hardLimitMs: Math.min(limits.timeLimitSeconds * 1000, remaining),
              revocable: (revoke) => running.set(envelope.id, revoke),
            },
          );
        } finally {
          running.delete(envelope.id);
        }
      }),
    );
  } finally {
    clearInterval(watch);
  }
}

async function abortRevoked(running: ReadonlyMap<string, (reason: Error) => void>, batch: BatchContext): Promise<void> {
  const ids = [...running.keys()];
  if (ids.length === 0) return;
  try {
    for (const id of await revokedAmong(await batch.settings.database(), ids)) {
      running.get(id)?.(new TaskRevokedError(`task ${id} was revoked while running`));
    }
  } catch (error) {
    batch.settings.logger.warn('could not check for revocations', { error });
  }
}
