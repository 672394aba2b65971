import type { SQSRecord } from 'aws-lambda';
import { tenantField, tenantOf } from '../../envelope/tenant.ts';
import type { ConcurrencyLimit } from '../../catalogue/index.ts';
import { describeError } from '../../errors.ts';
import { taskMetrics } from '../../observability/index.ts';
import type { TaskOutcomeRow } from '../../results/finish.ts';
import type { ClaimResult } from '../../results/claim.ts';
import type { Execution } from '../execute.ts';
import type { ParsedMessage } from '../parse.ts';
import { abandonedByFailure, errbacksAfterFailure } from '../workflow-failure.ts';
import { afterSuccess, countedGroup, hasFollowUps, type TaskLookup } from '../workflow.ts';
import { lostAttempts, type Verdict } from './classify.ts';
import { fieldsOf, type Outcome } from './outcome.ts';
import { inUtc, type Plan } from './plan.ts';
import { slotWaitSeconds, waitingForSlot } from './throttle.ts';

/** What the decisions know besides the record: no I/O, so each is a pure function. */
export interface Decisions {
  readonly queue: string;
  readonly lookup: TaskLookup;
  /** The queue's visibility timeout: how long another consumer's attempt may hold a task. */
  readonly timeoutSeconds: number;
  readonly now: number;
}

/** A task that may run now, with what its claim gave it. */
export interface Attempt {
  readonly plan: ParsedMessage;
  readonly record: SQSRecord;
  readonly attempt: number;
  /** Attempts recorded in all, earlier redrives' included: the fence of this attempt's writes. */
  readonly attempts: number;
  readonly fields: Record<string, unknown>;
  /** It holds a concurrency slot, which its outcome's record gives back. */
  readonly slotted?: boolean;
}


/** Decided at planning, before any statement: a rejected message, a duplicate in the batch, an expired or early task. Undefined when due. */
export function beforeClaim(plan: Plan, record: SQSRecord, d: Decisions): Outcome | undefined {
  if (!plan.ok) {
    return {
      step: { kind: 'dead-letter', reason: plan.reason, taskId: plan.id, attempts: 0 },
      row: { id: plan.id, name: plan.task, queue: d.queue, status: 'FAILURE', error: plan.reason, payload: plan.payload, ...tenantField(plan.tenant) },
      report: { level: 'error', message: 'message rejected', task: plan.task, metric: taskMetrics.rejected, fields: { taskId: plan.id, messageId: record.messageId, reason: plan.reason } },
    };
  }
  const { envelope } = plan;
  const task = plan.implementation.definition.name;
  if (plan.duplicateInBatch) {
    return { step: { kind: 'ack' }, report: { level: 'info', message: 'duplicate delivery in one batch acknowledged', task, metric: taskMetrics.duplicate, fields: fieldsOf(plan, record) } };
  }
  if (plan.timing === 'expired') {
    return {
      step: { kind: 'ack' },
      row: { id: envelope.id, name: task, queue: d.queue, status: 'REVOKED', error: 'expired', payload: envelope.payload, createdAt: inUtc(envelope.createdAt), ...tenantField(tenantOf(plan.implementation.definition.tenant, envelope.payload, envelope.tenant)) },
      report: { level: 'warn', message: 'task revoked: expired', task, metric: taskMetrics.revoked, fields: { ...fieldsOf(plan, record), expires: envelope.expires } },
      abandoned: abandonedByFailure(d.lookup, envelope, `revoked: expired at ${envelope.expires}`),
    };
  }
  // Beyond SQS's 15-minute delay the message comes back as often as it must (at most 12 h apart).
  if (plan.timing === 'early') return { step: { kind: 'delay', seconds: Math.ceil((Date.parse(envelope.eta!) - d.now) / 1000) } };
  return undefined;
}

/** What the claim says: run now (an Attempt), or an outcome without running: finished already, revoked, held by another, out of attempts. */
export function afterClaim(plan: ParsedMessage, record: SQSRecord, claim: ClaimResult | undefined, d: Decisions, concurrency?: ConcurrencyLimit, random: () => number = Math.random): Attempt | Outcome {
  const task = plan.implementation.definition;
  const fields = fieldsOf(plan, record);
  if (claim?.throttled) return waitingForSlot(plan, record, concurrency, slotWaitSeconds(Number(record.attributes.ApproximateReceiveCount) || 1, d.timeoutSeconds, random));
  if (!claim || claim.attempts === null || claim.attemptBase === null) {
    if (claim?.priorStatus === 'SUCCESS') {
      const report = { level: 'info', message: 'task already succeeded; duplicate delivery acknowledged', task: task.name, metric: taskMetrics.duplicate, fields } as const;
      // A first delivery may have recorded its success and lost its follow-ups; they are idempotent by id, so send again.
      return { step: { kind: 'ack' }, report, ...(hasFollowUps(plan.envelope) ? { resend: plan.envelope } : {}) };
    }
    if (claim?.priorStatus === 'REVOKED') {
      return { step: { kind: 'ack' }, report: { level: 'warn', message: 'task revoked', task: task.name, metric: taskMetrics.revoked, fields }, abandoned: abandonedByFailure(d.lookup, plan.envelope, 'revoked') };
    }
    // Another consumer holds it; look again once its attempt must have ended.
    return { step: { kind: 'delay', seconds: Math.min(60, d.timeoutSeconds) } };
  }
  const attempt = claim.attempts - claim.attemptBase;
  const started: Attempt = { plan, record, attempt, attempts: claim.attempts, fields: { ...fields, attempt, attempts: claim.attempts }, ...(claim.slotted ? { slotted: true } : {}) };
  const lost = lostAttempts(attempt, task.retry.maxRetries + 1);
  return lost ? failure(started, lost, undefined, undefined, d) : started;
}

/** What an attempt's verdict means for its message, its row and the workflow around it. */
export function afterRun(started: Attempt, verdict: Verdict, execution: Execution, d: Decisions): Outcome {
  const { envelope } = started.plan;
  const task = started.plan.implementation.definition.name;
  const runtimeMs = execution.runtimeMs;
  switch (verdict.kind) {
    case 'success':
      return success(started, verdict.result, runtimeMs, d);
    case 'revoked':
      return {
        step: { kind: 'ack' },
        report: { level: 'warn', message: 'task revoked while running; it stopped at its next check', task, metric: taskMetrics.revoked, runtimeMs, fields: { ...started.fields, state: 'REVOKED' } },
        abandoned: abandonedByFailure(d.lookup, envelope, 'revoked'),
      };
    case 'failure':
      return failure(started, verdict.reason, verdict.stack, runtimeMs, d);
    case 'retry': {
      const { seconds, error } = verdict;
      return {
        step: { kind: 'delay', seconds }, envelope,
        row: { ...rowBase(started, d), status: 'RETRY', error: describeError(error), traceback: error.stack ?? '', runtimeMs },
        report: { level: 'warn', message: 'task failed; retrying', task, metric: taskMetrics.retried, runtimeMs, fields: { ...started.fields, state: 'RETRY', error: describeError(error), retryInSeconds: seconds } },
      };
    }
  }
}

function rowBase(started: Attempt, d: Decisions): Pick<TaskOutcomeRow, 'id' | 'name' | 'queue' | 'fence' | 'releasesSlot'> {
  return { id: started.plan.envelope.id, name: started.plan.implementation.definition.name, queue: d.queue, fence: started.attempts, ...(started.slotted ? { releasesSlot: true } : {}) };
}

function success(started: Attempt, result: unknown, runtimeMs: number, d: Decisions): Outcome {
  const { envelope } = started.plan;
  const task = started.plan.implementation.definition.name;
  const report = { level: 'info', message: 'task succeeded', task, metric: taskMetrics.succeeded, runtimeMs, attempts: started.attempts, fields: { ...started.fields, state: 'SUCCESS', runtimeMs } } as const;
  const counted = countedGroup(envelope);
  const chord = counted?.callback ? { groupId: counted.id, size: counted.size } : undefined;
  const row: TaskOutcomeRow = { ...rowBase(started, d), status: 'SUCCESS', result, runtimeMs, ...(chord ? { chord } : {}) };
  try {
    const next = afterSuccess(d.lookup, envelope, result);
    return { step: { kind: 'ack' }, row, report, envelope, ...(next.length > 0 ? { followUps: next } : {}), ...(chord ? { chordMember: envelope } : {}) };
  } catch (error) {
    // The task did its work; the chain cannot go on, and its remaining steps say why.
    const reason = `its result cannot start the next step: ${(error as Error).message}`;
    return { step: { kind: 'ack' }, row, report, abandoned: abandonedByFailure(d.lookup, { ...envelope, group: undefined }, reason) };
  }
}

function failure(started: Attempt, reason: string, stack: string | undefined, runtimeMs: number | undefined, d: Decisions): Outcome {
  const task = started.plan.implementation.definition.name;
  const errbacks = errbacksAfterFailure(d.lookup, started.plan.envelope, reason);
  return {
    step: { kind: 'dead-letter', reason, taskId: started.plan.envelope.id, attempts: started.attempts },
    row: { ...rowBase(started, d), status: 'FAILURE', error: reason, traceback: stack ?? '', ...(runtimeMs !== undefined ? { runtimeMs } : {}) },
    report: {
      level: 'error', message: 'task failed', task, metric: taskMetrics.failed, attempts: started.attempts, ...(runtimeMs !== undefined ? { runtimeMs } : {}),
      fields: { ...started.fields, state: 'FAILURE', error: reason, traceback: stack, ...(errbacks.problems.length > 0 ? { errbackProblems: errbacks.problems } : {}) },
    },
    abandoned: abandonedByFailure(d.lookup, started.plan.envelope, reason),
    ...(errbacks.followUps.length > 0 ? { followUps: errbacks.followUps } : {}),
  };
}
