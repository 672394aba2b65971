import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { outageDelaySeconds } from '../backoff.ts';
import { admit, type Due } from './admit.ts';
import { claim } from './claim.ts';
import { classify } from './classify.ts';
import { checkKeys, keyOutcome } from './dedupe.ts';
import { afterClaim, afterRun, beforeClaim, type Attempt, type Decisions } from './decide.ts';
import { resentFollowUps } from './follow-ups.ts';
import { endedCopy, hydrate, payloadsToForget } from './hydrate.ts';
import type { Outcome, Outcomes } from './outcome.ts';
import { planBatch } from './plan.ts';
import { cataloguePolicies, type TaskPolicies } from './policies.ts';
import { record } from './record.ts';
import { report } from './report.ts';
import { runAttempts } from './run.ts';
import { fatesOf, settle } from './settle.ts';
import { throttled } from './throttle.ts';
import { batchContext, type BatchContext, type ConsumerSettings, type Invocation } from './settings.ts';

/**
 * One invocation's batch, step by step: hydrate (payloads sent by reference), plan (parse, duplicates, timing), admit (rate
 * tokens under the policies in force, then the keys of unique and debounced tasks), claim (one statement), run and classify, record (one statement), settle
 * (visibility, dead letters, follow-ups), report. Each record's fate is decided on its
 * own: a decision that throws delays that record alone, so no message fails its siblings.
 */
export async function processBatch(records: readonly SQSRecord[], settings: ConsumerSettings, invocation: Invocation): Promise<SQSBatchResponse> {
  const batch = batchContext(settings, invocation);
  const lookup = (name: string) => settings.directory.definition(name);
  const decisions: Decisions = { queue: settings.queue.name, lookup, timeoutSeconds: settings.queue.timeoutSeconds, now: Date.now() };
  const book = new OutcomeBook(batch);

  const hydrated = await hydrate(records, settings.database);
  for (const [r, task] of hydrated.ended) book.decide(r, () => endedCopy(r, task));
  for (const r of hydrated.unavailable) book.outage(r);
  const plans = planBatch(records.filter((r) => !hydrated.ended.has(r) && !hydrated.unavailable.has(r)), settings.directory, decisions.now, hydrated);
  const due: Due[] = [];
  for (const [r, plan] of plans) {
    if (!book.decide(r, () => beforeClaim(plan, r, decisions)) && plan.ok) due.push({ record: r, plan });
  }
  const { started, policies } = await admitAndClaim(due, book, decisions, batch);
  const executions = await runAttempts(started, batch, policies).catch((error: unknown) => {
    settings.logger.error('could not run the batch; its tasks will be retried', { error });
    return [];
  });
  started.forEach((attempt, n) => {
    const execution = executions[n];
    if (!execution) {
      book.outage(attempt.record);
      return;
    }
    const task = attempt.plan.implementation.definition;
    const verdict = classify(execution, { attempt: attempt.attempt, maxAttempts: task.retry.maxRetries + 1, retry: task.retry, random: batch.random });
    book.decide(attempt.record, () => afterRun(attempt, verdict, execution, decisions));
  });
  const outcomes = await withResentFollowUps(book.inOrder(records), lookup, batch);

  const recorded = await record(outcomes, lookup, batch);
  const fates = fatesOf(outcomes, recorded, (r) => book.outageSeconds(r));
  const done = await settle(fates, recorded, outcomes, lookup, batch);
  await forgetPayloads(payloadsToForget(plans, outcomes, done), batch);
  report(fates.reports, settings.logger, settings.metrics);
  return { batchItemFailures: records.filter((r) => !done.has(r)).map((r) => ({ itemIdentifier: r.messageId })) };
}

/**
 * Admits the due tasks past their rate limits and claims the rest; returns the attempts to
 * run now and the policies in force (the run-time changes, read at most every few seconds).
 */
async function admitAndClaim(due: readonly Due[], book: OutcomeBook, decisions: Decisions, batch: BatchContext): Promise<{ started: Attempt[]; policies: TaskPolicies }> {
  const started: Attempt[] = [];
  if (due.length === 0) return { started, policies: cataloguePolicies };
  try {
    const database = await batch.settings.database();
    const policies = await batch.policies.current(database);
    const waits = await admit(due, database, batch.random, policies);
    const tokened = due.filter((d) => !waits.has(d.record));
    for (const d of due) {
      if (waits.has(d.record)) book.decide(d.record, () => throttled(d.plan, d.record, waits.get(d.record)!, policies.of(d.plan.implementation.definition).rateLimit));
    }
    const verdicts = await checkKeys(tokened, database, decisions.now);
    const admitted = tokened.filter((d) => !book.decide(d.record, () => keyOutcome(d.plan, d.record, verdicts.get(d.record) ?? { kind: 'run' }, decisions)));
    const claims = await claim(admitted, database, batch.settings.queue, batch.worker, policies);
    for (const { record: r, plan } of admitted) {
      book.decide(r, () => {
        const next = afterClaim(plan, r, claims.get(plan.envelope.id), decisions, policies.of(plan.implementation.definition).concurrency, batch.random);
        if ('step' in next) return next;
        started.push(next);
        return undefined;
      });
    }
    return { started, policies };
  } catch (error) {
    batch.settings.logger.warn('result store unavailable; backing off without spending attempts', { error });
    for (const d of due) book.outage(d.record);
    return { started: [], policies: cataloguePolicies };
  }
}

/** Deletes the payload objects of tasks that ended; one left behind is only a cost, which the bucket's lifecycle rule ends. */
async function forgetPayloads(keys: readonly string[], batch: BatchContext): Promise<void> {
  if (keys.length === 0) return;
  try {
    await (await batch.settings.database()).payloads?.delete(keys);
  } catch (error) {
    batch.settings.logger.warn('could not delete the payload objects of finished tasks; the lifecycle rule will', { keys: keys.length, error });
  }
}

/** Duplicates of finished workflow tasks get their follow-ups rebuilt, to send again. */
async function withResentFollowUps(outcomes: Outcomes, lookup: Decisions['lookup'], batch: BatchContext): Promise<Outcomes> {
  for (const [r, outcome] of outcomes) {
    if (outcome.resend) outcomes.set(r, { ...outcome, followUps: await resentFollowUps(outcome.resend, lookup, batch) });
  }
  return outcomes;
}

/** The outcomes decided so far; a decision that throws, or a record left undecided, waits out an outage delay. */
class OutcomeBook {
  readonly #outcomes: Outcomes = new Map();
  readonly #batch: BatchContext;

  constructor(batch: BatchContext) {
    this.#batch = batch;
  }

  /** Sets the record's outcome when `choose` gives one; returns whether it did. */
  decide(r: SQSRecord, choose: () => Outcome | undefined): boolean {
    try {
      const outcome = choose();
      if (outcome) this.#outcomes.set(r, outcome);
      return outcome !== undefined;
    } catch (error) {
      this.#batch.settings.logger.error('record handling failed; the message will be retried', { messageId: r.messageId, error });
      this.outage(r);
      return true;
    }
  }

  outage(r: SQSRecord): void {
    this.#outcomes.set(r, { step: { kind: 'delay', seconds: this.outageSeconds(r) } });
  }

  outageSeconds(r: SQSRecord): number {
    return outageDelaySeconds(Number(r.attributes.ApproximateReceiveCount) || 1, this.#batch.random);
  }

  inOrder(records: readonly SQSRecord[]): Outcomes {
    return new Map(records.map((r) => [r, this.#outcomes.get(r) ?? { step: { kind: 'delay', seconds: this.outageSeconds(r) } }]));
  }
}
