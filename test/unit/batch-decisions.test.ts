import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { tasks } from '../../shared/catalogue/index.ts';
import { newEnvelope, type Envelope } from '../../shared/envelope/envelope.ts';
import { taskMetrics } from '../../shared/observability/index.ts';
import type { ClaimResult } from '../../shared/results/claim.ts';
import { slotOf } from '../../shared/runtime/batch/claim.ts';
import { afterClaim, afterRun, beforeClaim, type Attempt, type Decisions } from '../../shared/runtime/batch/decide.ts';
import { slotWaitSeconds, throttled } from '../../shared/runtime/batch/throttle.ts';
import { cataloguePolicies, policiesFrom } from '../../shared/runtime/batch/policies.ts';
import type { Outcome, Outcomes, Report } from '../../shared/runtime/batch/outcome.ts';
import { planBatch, type Plan } from '../../shared/runtime/batch/plan.ts';
import { uniqueRows, type Recorded } from '../../shared/runtime/batch/record.ts';
import { report } from '../../shared/runtime/batch/report.ts';
import { fatesOf } from '../../shared/runtime/batch/settle.ts';
import { readSecret } from '../../shared/secrets.ts';
import type { ParsedMessage } from '../../shared/runtime/parse.ts';
import { TaskDirectory } from '../../shared/runtime/parse.ts';
import { noop } from '../../shared/tasks/default.ts';
import { sqsRecordFactory } from '../support/factories.ts';

const directory = new TaskDirectory('default', [noop], Object.values(tasks));
const now = Date.parse('2026-12-02T12:00:00Z');
const decisions: Decisions = { queue: 'default', lookup: (name) => directory.definition(name), timeoutSeconds: 30, now };
const step = (id: string) => ({ id, task: 'default.noop', payload: {} });

function planned(envelope: Envelope | string, messageId = 'm1'): { record: SQSRecord; plan: Plan } {
  const record = sqsRecordFactory(typeof envelope === 'string' ? envelope : JSON.stringify(envelope), { messageId });
  return { record, plan: planBatch([record], directory, now).get(record)! };
}

function parsed(envelope: Envelope): { record: SQSRecord; plan: ParsedMessage } {
  const { record, plan } = planned(envelope);
  if (!plan.ok) throw new Error(plan.reason);
  return { record, plan };
}

const claimed = (attempts: number | null, attemptBase: number | null = 0, priorStatus: ClaimResult['priorStatus'] = null, throttled = false): ClaimResult => ({ id: 'x', attempts, attemptBase, priorStatus, throttled, slotted: false });

describe('beforeClaim', () => {
  const chained = newEnvelope('default.noop', {}, { id: 't1', chain: [step('t2')] });
  it.each<[string, Envelope | string, Partial<Outcome> | undefined]>([
    ['a due task: claimed next', newEnvelope('default.noop', {}, { id: 't1' }), undefined],
    ['a rejected message: dead-lettered with its reason, recorded as FAILURE', 'not json', { step: expect.objectContaining({ kind: 'dead-letter', attempts: 0 }), row: expect.objectContaining({ id: 'm1', status: 'FAILURE' }), report: expect.objectContaining({ metric: taskMetrics.rejected }) }],
    ['an expired task: acknowledged, REVOKED with reason expired', { ...chained, expires: '2026-12-02T11:00:00Z' }, { step: { kind: 'ack' }, row: expect.objectContaining({ status: 'REVOKED', error: 'expired' }), abandoned: [expect.objectContaining({ id: 't2', status: 'FAILURE', error: expect.stringMatching(/^ChainError: .*revoked: expired/) })] }],
    ['an early task: delayed until its eta', { ...chained, eta: '2026-12-02T12:05:00Z' }, { step: { kind: 'delay', seconds: 300 } }],
  ])('%s', (_case, envelope, expected) => {
    const { record, plan } = planned(envelope);
    const outcome = beforeClaim(plan, record, decisions);
    expect(outcome).toEqual(expected === undefined ? undefined : expect.objectContaining(expected));
  });

  it('acknowledges a second copy in one batch without a row', () => {
    const envelope = newEnvelope('default.noop', {}, { id: 't1' });
    const records = ['m1', 'm2'].map((messageId) => sqsRecordFactory(JSON.stringify(envelope), { messageId }));
    const plans = planBatch(records, directory, now);
    expect(beforeClaim(plans.get(records[1]!)!, records[1]!, decisions)).toEqual({ step: { kind: 'ack' }, report: expect.objectContaining({ metric: taskMetrics.duplicate }) });
  });
});

describe('afterClaim', () => {
  const plain = newEnvelope('default.noop', {}, { id: 't1' });
  const chained = newEnvelope('default.noop', {}, { id: 't1', chain: [step('t2')] });
  it.each<[string, Envelope, ClaimResult | undefined, Record<string, unknown>]>([
    ['won: attempt 1 runs', plain, claimed(1, 0), { attempt: 1, attempts: 1 }],
    ['won after a redrive: its attempt counts from the base', plain, claimed(6, 5), { attempt: 1, attempts: 6 }],
    ['held by another consumer: looks again after its lease', plain, claimed(null, null, 'STARTED'), { step: { kind: 'delay', seconds: 30 } }],
    ['no claim row at all: looks again', plain, undefined, { step: { kind: 'delay', seconds: 30 } }],
    ['already succeeded: acknowledged', plain, claimed(null, null, 'SUCCESS'), { step: { kind: 'ack' }, report: expect.objectContaining({ metric: taskMetrics.duplicate }) }],
    ['already succeeded in a chain: its follow-ups are rebuilt', chained, claimed(null, null, 'SUCCESS'), { step: { kind: 'ack' }, resend: chained }],
    ['revoked: acknowledged, the chain after it abandoned', chained, claimed(null, null, 'REVOKED'), { step: { kind: 'ack' }, abandoned: [expect.objectContaining({ id: 't2', error: expect.stringMatching(/revoked$/) })] }],
    ['every slot of its concurrency key held: waits, spending no attempt', plain, claimed(null, null, null, true), { step: { kind: 'delay', seconds: 1 }, report: expect.objectContaining({ metric: taskMetrics.throttled, message: expect.stringMatching(/^concurrency limit reached/) }) }],
    ['beyond its attempts: a lost worker, dead-lettered', plain, claimed(5, 0), { step: expect.objectContaining({ kind: 'dead-letter', reason: expect.stringMatching(/^WorkerLostError: 4 attempts/) }), row: expect.objectContaining({ status: 'FAILURE', fence: 5 }) }],
  ])('%s', (_case, envelope, claim, expected) => {
    const { record, plan } = parsed(envelope);
    expect(afterClaim(plan, record, claim, decisions, undefined, () => 0)).toEqual(expect.objectContaining(expected));
  });

  it.each([
    // receive count, timeout, random → seconds: doubling from 1 s, at most a minute or the timeout, jittered down to half.
    [1, 300, 0.999, 1], [2, 300, 0.999, 2], [5, 300, 0.999, 16], [12, 300, 0.999, 60], [40, 300, 0.999, 60],
    [12, 300, 0, 30], [12, 4, 0.999, 4], [1, 300, 0, 1],
  ])('looks for a free slot again after receive %i (timeout %i s, random %f): %i s', (receives, timeout, random, seconds) => {
    expect(slotWaitSeconds(receives, timeout, () => random)).toBe(seconds);
  });
});

describe('slotOf', () => {
  const exclusive = { ...tasks['data.export_data'], concurrency: { key: 'userId', limit: 2 } };
  const whole = { ...tasks['default.noop'], concurrency: { limit: 3 } };
  it.each([
    ['per key: the name and the value', exclusive, { userId: 7 }, cataloguePolicies, { key: 'data.export_data:7', limit: 2 }],
    ['per key, the field absent: the name alone', exclusive, {}, cataloguePolicies, { key: 'data.export_data', limit: 2 }],
    ['for the task as a whole', whole, { echo: 1 }, cataloguePolicies, { key: 'default.noop', limit: 3 }],
    ['an operator lifted it', exclusive, { userId: 7 }, policiesFrom(new Map([['data.export_data', { concurrencyLimit: 0 }]])), undefined],
    ['an operator made it a singleton', exclusive, { userId: 7 }, policiesFrom(new Map([['data.export_data', { concurrencyLimit: 1 }]])), { key: 'data.export_data:7', limit: 1 }],
    ['no limit', tasks['default.noop'], {}, cataloguePolicies, undefined],
  ])('%s', (_case, definition, payload, policies, expected) => {
    expect(slotOf(definition, payload, policies)).toEqual(expected);
  });
});

describe('afterRun', () => {
  const attemptOf = (envelope: Envelope, attempt = 1): Attempt => {
    const { record, plan } = parsed(envelope);
    return afterClaim(plan, record, claimed(attempt, 0), decisions) as Attempt;
  };
  const ran = { ok: true as const, value: null, runtimeMs: 7 };
  const chordMember = newEnvelope('default.noop', {}, { id: 'm', group: { id: 'g', index: 0, size: 2, callback: step('cb') } });
  it.each<[string, Attempt, Parameters<typeof afterRun>[1], Record<string, unknown>]>([
    ['success: acknowledged, SUCCESS fenced by its attempt', attemptOf(newEnvelope('default.noop', {}, { id: 't1' })), { kind: 'success', result: 1 }, { step: { kind: 'ack' }, row: expect.objectContaining({ status: 'SUCCESS', result: 1, fence: 1, runtimeMs: 7 }) }],
    ['success in a chain: the next step follows with the result', attemptOf(newEnvelope('default.noop', {}, { id: 't1', chain: [{ ...step('t2'), resultAs: 'echo' }] })), { kind: 'success', result: 'hi' }, { followUps: [expect.objectContaining({ envelope: expect.objectContaining({ id: 't2', payload: { echo: 'hi' } }) })] }],
    ['success of a chord member: counted towards its chord', attemptOf(chordMember), { kind: 'success', result: 1 }, { chordMember, row: expect.objectContaining({ chord: { groupId: 'g', size: 2 } }) }],
    ['success whose result cannot start the next step: the chain ends, saying why', attemptOf(newEnvelope('default.noop', {}, { id: 't1', chain: [{ id: 't2', task: 'default.nope', payload: {} }] })), { kind: 'success', result: 1 }, { row: expect.objectContaining({ status: 'SUCCESS' }), abandoned: [expect.objectContaining({ id: 't2', error: expect.stringMatching(/cannot start the next step: unknown task/) })] }],
    ['retry: delayed by the back-off, RETRY recorded', attemptOf(newEnvelope('default.noop', {}, { id: 't1' })), { kind: 'retry', seconds: 4, error: new Error('boom') }, { step: { kind: 'delay', seconds: 4 }, row: expect.objectContaining({ status: 'RETRY', error: 'Error: boom' }) }],
    ['failure: dead-lettered, the chain after it abandoned', attemptOf(newEnvelope('default.noop', {}, { id: 't1', chain: [step('t2')] })), { kind: 'failure', reason: 'PermanentError: no', stack: 's' }, { step: { kind: 'dead-letter', reason: 'PermanentError: no', taskId: 't1', attempts: 1 }, row: expect.objectContaining({ status: 'FAILURE', traceback: 's' }), abandoned: [expect.objectContaining({ id: 't2' })] }],
    ['revoked while running: acknowledged, no row of its own', attemptOf(newEnvelope('default.noop', {}, { id: 't1' })), { kind: 'revoked' }, { step: { kind: 'ack' }, report: expect.objectContaining({ metric: taskMetrics.revoked }) }],
  ])('%s', (_case, attempt, verdict, expected) => {
    const outcome = afterRun(attempt, verdict, ran, decisions);
    expect(outcome).toEqual(expect.objectContaining(expected));
    if (verdict.kind === 'revoked') expect(outcome.row).toBeUndefined();
  });

  it('a throttled task waits without a row, its report naming the rate in force', () => {
    const { record, plan } = parsed(newEnvelope('default.noop', {}, { id: 't1' }));
    expect(throttled(plan, record, 3, '1/s')).toEqual({
      step: { kind: 'delay', seconds: 3 },
      report: expect.objectContaining({ metric: taskMetrics.throttled, fields: expect.objectContaining({ rateLimit: '1/s', retryInSeconds: 3 }) }),
    });
  });
});

describe('fatesOf', () => {
  const record = sqsRecordFactory('{}', { messageId: 'm1' });
  const row = { id: 't1', name: 'default.noop', queue: 'default', status: 'SUCCESS' as const, fence: 1 };
  const report: Report = { level: 'info', message: 'task succeeded', task: 'default.noop', fields: {} };
  const followUps = [{ queue: 'default' as const, priority: 'normal' as const, envelope: newEnvelope('default.noop', {}, { id: 't2' }), body: '{}' }];
  const ok = (extra: Partial<Extract<Recorded, { ok: true }>> = {}): Recorded => ({ ok: true, superseded: new Map(), completedChords: new Set(), refused: new Map(), ...extra });
  it.each<[string, Outcome, Recorded, { step: unknown; reports: number; followUps: number }]>([
    ['recorded: its step stands, it reports and sends on', { step: { kind: 'ack' }, row, report, followUps }, ok(), { step: { kind: 'ack' }, reports: 1, followUps: 1 }],
    ['the store unreachable: it waits, reports nothing, sends nothing', { step: { kind: 'ack' }, row, report, followUps }, { ok: false }, { step: { kind: 'delay', seconds: 9 }, reports: 0, followUps: 0 }],
    ['nothing to write: the outage does not touch it', { step: { kind: 'delay', seconds: 3 } }, { ok: false }, { step: { kind: 'delay', seconds: 3 }, reports: 0, followUps: 0 }],
    ['refused for good: dead-lettered as its failure', { step: { kind: 'ack' }, row, report, followUps }, ok({ refused: new Map([['t1', 'too big']]) }), { step: { kind: 'dead-letter', reason: 'too big', taskId: 't1', attempts: 1 }, reports: 1, followUps: 0 }],
    ['superseded by a revocation: acknowledged', { step: { kind: 'ack' }, row, report }, ok({ superseded: new Map([['t1', 'REVOKED']]) }), { step: { kind: 'ack' }, reports: 0, followUps: 0 }],
    ['superseded by another attempt: left to it', { step: { kind: 'ack' }, row, report }, ok({ superseded: new Map([['t1', 'STARTED']]) }), { step: { kind: 'leave' }, reports: 0, followUps: 0 }],
  ])('%s', (_case, outcome, recorded, expected) => {
    const fates = fatesOf(new Map([[record, outcome]]) as Outcomes, recorded, () => 9);
    expect({ step: fates.steps.get(record), reports: fates.reports.length, followUps: fates.followUps.size }).toEqual(expected);
  });

  it('keeps one row per id, a task own outcome over a row abandoning it', () => {
    const abandoned = { id: 't1', name: 'default.noop', queue: 'default', status: 'FAILURE' as const, error: 'ChainError' };
    expect(uniqueRows([abandoned, row])).toEqual([row]);
    expect(uniqueRows([row, abandoned])).toEqual([row]);
  });
});

describe('report', () => {
  /** What the report writes: Powertools puts INFO and EMF on stdout, warnings and errors on stderr. */
  function captured(reports: readonly Report[]): { documents: Record<string, unknown>[]; text: string } {
    const chunks: string[] = [];
    const streams = [process.stdout, process.stderr] as const;
    const writes = streams.map((stream) => stream.write);
    for (const stream of streams) stream.write = ((chunk: string) => chunks.push(String(chunk)) > 0) as typeof stream.write;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    try {
      report(reports, new Logger({ serviceName: 's', logLevel: 'INFO' }), new Metrics({ namespace: 'n', serviceName: 's' }));
    } finally {
      streams.forEach((stream, index) => (stream.write = writes[index]!));
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    }
    const text = chunks.join('');
    return { text, documents: text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
  }
  const success = (n: number): Report => ({ level: 'info', message: 'task succeeded', task: 'default.noop', metric: taskMetrics.succeeded, runtimeMs: n, attempts: 1, fields: { taskId: `t${n}`, task: 'default.noop', messageId: `m${n}`, attempt: 1, attempts: 1, state: 'SUCCESS', runtimeMs: n } });

  it('logs a batch of successes as one line and one EMF document per task name, counts summed and durations kept', () => {
    const { documents } = captured(Array.from({ length: 10 }, (_, n) => success(n)));
    const lines = documents.filter((d) => !d._aws);
    expect(lines).toEqual([expect.objectContaining({ message: 'tasks succeeded', task: 'default.noop', state: 'SUCCESS', tasks: Array.from({ length: 10 }, (_, n) => ({ taskId: `t${n}`, runtimeMs: n })) })]);
    const emf = documents.filter((d) => d._aws);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ task: 'default.noop', [taskMetrics.succeeded]: 10, [taskMetrics.duration]: Array.from({ length: 10 }, (_, n) => n) });
  });

  it('names the attempt of a success after the first, and the attempts in all after a redrive', () => {
    const retried: Report = { ...success(1), fields: { ...success(1).fields, attempt: 3, attempts: 3 } };
    const redriven: Report = { ...success(2), fields: { ...success(2).fields, attempt: 1, attempts: 5 } };
    const line = captured([retried, redriven]).documents.find((d) => d.message === 'tasks succeeded');
    expect(line?.tasks).toEqual([{ taskId: 't1', runtimeMs: 1, attempt: 3 }, { taskId: 't2', runtimeMs: 2, attempts: 5 }]);
  });

  it('keeps a line for each other outcome, with secrets redacted from warnings', async () => {
    await readSecret('openai-api-key', { OPENAI_API_KEY: 'sk-abcdefghijklmnopqrstuvwx' });
    const retry: Report = { level: 'warn', message: 'task failed; retrying', task: 'default.noop', metric: taskMetrics.retried, fields: { taskId: 't1', error: 'Error: bad key sk-abcdefghijklmnopqrstuvwx' } };
    const { documents, text } = captured([retry, retry, success(1)]);
    expect(documents.filter((d) => d.message === 'task failed; retrying')).toHaveLength(2);
    expect(documents.find((d) => d._aws)).toMatchObject({ [taskMetrics.retried]: 2, [taskMetrics.succeeded]: 1 });
    expect(text).not.toContain('sk-abcdefghijklmnopqrstuvwx');
    expect(text).toContain('[openai-api-key redacted]');
  });
});
