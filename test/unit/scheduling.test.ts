import { describe, expect, it } from 'vitest';
import { schedules } from '../../shared/catalogue/index.ts';
import { scheduledEnvelope, schedulerTime, scheduleTimes } from '../../shared/scheduling.ts';
import { envelopeV1 } from '../../shared/envelope/envelope.ts';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('schedule expressions', () => {
  it('counts rate() from its anchor', () => {
    const times = scheduleTimes('rate(5 minutes)', new Date('2026-11-27T10:00:00Z'));
    expect(iso(times.next(new Date('2026-11-27T10:07:30Z'), 3))).toEqual(['2026-11-27T10:10:00.000Z', '2026-11-27T10:15:00.000Z', '2026-11-27T10:20:00.000Z']);
    expect(iso(scheduleTimes('rate(1 hour)', new Date('2026-11-27T10:00:00Z')).next(new Date('2026-11-27T10:00:00Z'), 1))).toEqual(['2026-11-27T11:00:00.000Z']);
  });

  it('reads EventBridge cron() in UTC, with ? and weekdays 1–7 = SUN–SAT', () => {
    expect(iso(scheduleTimes('cron(0 3 * * ? *)').next(new Date('2026-11-27T10:00:00Z'), 2))).toEqual(['2026-11-28T03:00:00.000Z', '2026-11-29T03:00:00.000Z']);
    // 2 = Monday in EventBridge; 2026-11-30 is a Monday.
    expect(iso(scheduleTimes('cron(30 9 ? * 2 *)').next(new Date('2026-11-27T10:00:00Z'), 1))).toEqual(['2026-11-30T09:30:00.000Z']);
    expect(iso(scheduleTimes('cron(0 12 L * ? 2026)').next(new Date('2026-11-27T10:00:00Z'), 1))).toEqual(['2026-11-30T12:00:00.000Z']);
  });

  it('refuses anything else', () => {
    expect(() => scheduleTimes('every 5 minutes')).toThrow(/not a rate\(\) or cron\(\)/);
    expect(() => scheduleTimes('cron(0 3 * * *)')).toThrow(/6 fields/);
  });

  it("reads every catalogue schedule, and each sends a valid envelope named after its firing", () => {
    for (const schedule of Object.values(schedules)) {
      const [next] = scheduleTimes(schedule.expression).next(new Date('2026-11-27T10:00:00Z'), 1);
      const envelope = scheduledEnvelope(schedule, schedulerTime(next!));
      expect(envelopeV1.safeParse(envelope).success).toBe(true);
      expect(envelope.id).toBe(`${schedule.name}:${schedulerTime(next!)}`);
    }
  });
});
