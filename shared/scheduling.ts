import { Cron } from 'croner';
import type { ScheduleDefinition } from './catalogue/index.ts';

const rateUnits: Record<string, number> = { minute: 60_000, minutes: 60_000, hour: 3_600_000, hours: 3_600_000, day: 86_400_000, days: 86_400_000 };

/** The times an EventBridge Scheduler expression fires. */
export interface ScheduleTimes {
  /** The first `count` fire times strictly after `after`. */
  next(after: Date, count: number): Date[];
}

/**
 * Reads EventBridge Scheduler's `rate(n unit)` and `cron(min hour dom month dow year)`.
 * A rate counts from `anchor` (a schedule's creation); a cron is UTC, with `?`, `L`, `W`,
 * `#` and weekdays 1–7 = SUN–SAT as EventBridge reads them (croner's Quartz mode).
 */
export function scheduleTimes(expression: string, anchor: Date = new Date(0)): ScheduleTimes {
  const rate = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const every = Number(rate[1]) * rateUnits[rate[2]!]!;
    if (every <= 0) throw new Error(`invalid rate: ${expression}`);
    return {
      next(after, count) {
        const first = anchor.getTime() + (Math.floor((after.getTime() - anchor.getTime()) / every) + 1) * every;
        return Array.from({ length: count }, (_, i) => new Date(first + i * every));
      },
    };
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) throw new Error(`a cron() expression has 6 fields: ${expression}`);
    const pattern = new Cron(`0 ${fields.join(' ')}`, { mode: '7-part', timezone: 'Etc/UTC', alternativeWeekdays: true, paused: true });
    return { next: (after, count) => pattern.nextRuns(count, after) };
  }
  throw new Error(`not a rate() or cron() expression: ${expression}`);
}

/**
 * The envelope a schedule sends. Its id is the schedule's name and the scheduled time,
 * so one firing delivered twice runs once. The stack passes Scheduler's
 * `<aws.scheduler.scheduled-time>` placeholder; the local cloud the time itself.
 */
export function scheduledEnvelope(schedule: ScheduleDefinition, scheduledTime: string) {
  return { v: 1, id: `${schedule.name}:${scheduledTime}`, task: schedule.task, payload: schedule.payload, createdAt: scheduledTime } as const;
}

/** Scheduler's rendering of a time: ISO 8601 to the second, in UTC. */
export function schedulerTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
