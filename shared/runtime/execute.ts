import { coerceError, SoftTimeLimitExceeded, TimeLimitExceeded } from '../errors.ts';
import type { TaskContext, TaskImplementation } from './task.ts';

export type Execution =
  | { readonly ok: true; readonly value: unknown; readonly runtimeMs: number }
  | { readonly ok: false; readonly error: Error; readonly runtimeMs: number };

export interface ExecutionLimits {
  /** When the task's `AbortSignal` fires. */
  readonly softLimitMs: number;
  /** When the runtime stops waiting: the task's hard limit or the invocation's end, whichever is first. */
  readonly hardLimitMs: number;
  /** Fires when the task is revoked while it runs; the task's own signal follows it. */
  /** Given the way to revoke the running task: its signal then fires with the reason given. */
  readonly revocable?: (revoke: (reason: Error) => void) => void;
}

/**
 * Runs one task under its time limits. At the soft limit the signal fires and the task
 * may still return; at the hard limit the runtime records `TimeLimitExceeded` and moves
 * on (the attempt's late result is then fenced out of the result store). A revocation
 * fires the same signal, with `TaskRevokedError` as its reason.
 */
export async function executeTask(
  implementation: TaskImplementation,
  payload: unknown,
  /** The task's context around its signal: built by the caller, so a field built on first use (the logger) stays that way. */
  contextOf: (signal: AbortSignal) => TaskContext<unknown>,
  limits: ExecutionLimits,
): Promise<Execution> {
  const started = performance.now();
  const controller = new AbortController();
  const soft = setTimeout(
    () => controller.abort(new SoftTimeLimitExceeded(`soft time limit of ${inSeconds(limits.softLimitMs)} s exceeded`)),
    Math.max(0, limits.softLimitMs),
  );
  limits.revocable?.((reason) => controller.abort(reason));
  let hard: NodeJS.Timeout | undefined;
  const deadline = new Promise<Execution>((resolve) => {
    hard = setTimeout(
      () => resolve({ ok: false, error: new TimeLimitExceeded(`time limit of ${inSeconds(limits.hardLimitMs)} s exceeded`), runtimeMs: elapsed() }),
      Math.max(0, limits.hardLimitMs),
    );
  });
  const elapsed = () => Math.round(performance.now() - started);
  const taskContext = contextOf(controller.signal);

  const run = (async (): Promise<Execution> => {
    try {
      const value = await implementation.run(payload, taskContext);
      return { ok: true, value, runtimeMs: elapsed() };
    } catch (thrown) {
      // A task that gives up because its signal fired failed by the soft limit, whatever it threw.
      const gaveUp = controller.signal.aborted && (thrown === controller.signal.reason || (thrown instanceof Error && thrown.name === 'AbortError'));
      const error = gaveUp ? (controller.signal.reason as Error) : coerceError(thrown);
      return { ok: false, error, runtimeMs: elapsed() };
    }
  })();

  try {
    return await Promise.race([run, deadline]);
  } finally {
    clearTimeout(soft);
    clearTimeout(hard);
  }
}

/** A limit as its error states it: whole seconds, or tenths for a limit an operator set below a few seconds. */
function inSeconds(ms: number): number {
  return Number((ms / 1000).toFixed(1));
}
