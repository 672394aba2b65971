import { describe, expect, it } from 'vitest';
import { schedules, type ScheduleDefinition } from '../../shared/catalogue/index.ts';
import { LocalScheduler } from '../../shared/local/scheduler.ts';

describe('LocalScheduler', () => {
  it("fires every catalogue schedule at its interval (a day compressed into 3 s)", async () => {
    const fired: { name: string; at: string }[] = [];
    const scheduler = new LocalScheduler({
      schedules: Object.values(schedules),
      fire: async (schedule, at) => void fired.push({ name: schedule.name, at }),
      timeScale: 28_800,
    });
    scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    scheduler.stop();

    const times = (name: string) => fired.filter((f) => f.name === name).map((f) => Date.parse(f.at));
    const gaps = (values: number[]) => values.slice(1).map((value, i) => value - values[i]!);
    const hourly = times('cleanup-temp-files');
    const fiveMinutes = times('process-webhooks');
    expect(hourly.length).toBeGreaterThanOrEqual(20);
    expect(new Set(gaps(hourly))).toEqual(new Set([3_600_000]));
    expect(fiveMinutes.length).toBeGreaterThanOrEqual(250);
    expect(new Set(gaps(fiveMinutes))).toEqual(new Set([300_000]));
    const daily = times('cleanup-task-results');
    expect(daily.length).toBeGreaterThanOrEqual(1);
    for (const at of daily) expect(new Date(at).toISOString()).toMatch(/T03:00:00.000Z$/);
    expect(new Set(gaps(daily))).toEqual(new Set(daily.length > 1 ? [86_400_000] : []));
  });

  it('keeps firing after a firing fails, and reports the failure', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const every: ScheduleDefinition = { name: 'tick', description: '', expression: 'rate(1 minute)', task: 'default.noop', payload: {} };
    const scheduler = new LocalScheduler({
      schedules: [every],
      fire: async () => {
        calls++;
        throw new Error('queue unreachable');
      },
      timeScale: 600,
      onError: (_schedule, error) => errors.push(error),
    });
    scheduler.start();
    expect(scheduler.nextRuns('tick', 2)).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 350));
    scheduler.stop();

    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors).toHaveLength(calls);
  });
});
