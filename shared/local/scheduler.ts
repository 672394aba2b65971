import type { ScheduleDefinition } from '../catalogue/index.ts';
import { schedulerTime, scheduleTimes, type ScheduleTimes } from '../scheduling.ts';

export interface LocalSchedulerOptions {
  readonly schedules: readonly ScheduleDefinition[];
  /** Sends one firing; errors are reported, and the next firing comes as planned. */
  readonly fire: (schedule: ScheduleDefinition, scheduledTime: string) => Promise<void>;
  /** Virtual seconds per real second: tests compress an hour into a second with 3600. @default 1 */
  readonly timeScale?: number;
  readonly onError?: (schedule: ScheduleDefinition, error: unknown) => void;
}

/**
 * EventBridge Scheduler on one machine: each schedule fires at the times its rate() or
 * cron() expression gives, counted from the scheduler's start as Scheduler counts a rate
 * from the schedule's creation.
 */
export class LocalScheduler {
  readonly #options: LocalSchedulerOptions;
  readonly #scale: number;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #oneTime = new Set<{ timer?: NodeJS.Timeout }>();
  #startedReal = 0;
  #startedVirtual = 0;
  #times = new Map<string, ScheduleTimes>();

  constructor(options: LocalSchedulerOptions) {
    this.#options = options;
    this.#scale = options.timeScale ?? 1;
  }

  /** The scheduler's clock: real time, or compressed time in tests. */
  now(): Date {
    return new Date(this.#startedVirtual + (Date.now() - this.#startedReal) * this.#scale);
  }

  start(): void {
    this.#startedReal = Date.now();
    this.#startedVirtual = this.#startedReal;
    const anchor = new Date(this.#startedVirtual);
    this.#times = new Map(this.#options.schedules.map((schedule) => [schedule.name, scheduleTimes(schedule.expression, anchor)]));
    for (const schedule of this.#options.schedules) this.#arm(schedule, anchor);
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const pending of this.#oneTime) clearTimeout(pending.timer);
    this.#oneTime.clear();
  }

  /**
   * Calls `callback` once at `time`, a real instant such as a producer's ETA, as one-time
   * `at()` schedules fire: what is left of the wait from now runs `timeScale` times faster
   * (the scheduler's own clock has drifted ahead of real time since its start, so it cannot
   * be compared with an ETA), and a time that has passed fires at once. Returns a cancel function.
   */
  at(time: Date, callback: () => void): () => void {
    const armed = Date.now();
    const due = armed + Math.max(0, time.getTime() - armed) / this.#scale;
    const pending: { timer?: NodeJS.Timeout } = {};
    const check = () => {
      const wait = due - Date.now();
      if (wait > 0) {
        // Timers stop at about 24.8 days: a later time is looked at again then.
        pending.timer = setTimeout(check, Math.min(wait, 2 ** 31 - 1));
        return;
      }
      this.#oneTime.delete(pending);
      callback();
    };
    this.#oneTime.add(pending);
    pending.timer = setTimeout(check, 0);
    return () => {
      clearTimeout(pending.timer);
      this.#oneTime.delete(pending);
    };
  }

  /** The next `count` firing times of a schedule, on the scheduler's clock. */
  nextRuns(name: string, count: number): Date[] {
    return this.#times.get(name)?.next(this.now(), count) ?? [];
  }

  #arm(schedule: ScheduleDefinition, after: Date): void {
    const [next] = this.#times.get(schedule.name)!.next(after, 1);
    if (!next) return;
    const delay = Math.max(0, (next.getTime() - this.now().getTime()) / this.#scale);
    this.#timers.set(
      schedule.name,
      setTimeout(() => {
        this.#options.fire(schedule, schedulerTime(next)).catch((error: unknown) => this.#options.onError?.(schedule, error));
        this.#arm(schedule, next);
      }, Math.min(delay, 2 ** 31 - 1)),
    );
  }
}
