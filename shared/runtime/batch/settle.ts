import type { SQSRecord } from 'aws-lambda';
import { laneName } from '../../catalogue/index.ts';
import { taskMetrics } from '../../observability/index.ts';
import { delayMessages, sendMessages, sendToDeadLetterQueue, type DeadLetter } from '../queue-actions.ts';
import type { FollowUp, TaskLookup } from '../workflow.ts';
import { chordCallbacks, placeLargePayloads } from './follow-ups.ts';
import type { Outcomes, Report, Step } from './outcome.ts';
import type { Recorded } from './record.ts';
import { laneOfRecord, laneUrls, type BatchContext } from './settings.ts';

/** What the write made of each outcome: the message's step, what to report, what to send on. */
export interface Fates {
  readonly steps: Map<SQSRecord, Step>;
  readonly reports: Report[];
  readonly followUps: Map<SQSRecord, FollowUp[]>;
}

/**
 * Each outcome's step once the write is known, without I/O: an unrecorded outcome waits
 * (the store's outage delay), a refused one becomes its task's failure, a superseded one
 * yields to the revocation or the attempt that holds the task, and only recorded ones
 * report and send their follow-ups.
 */
export function fatesOf(outcomes: Outcomes, recorded: Recorded, outageDelay: (record: SQSRecord) => number): Fates {
  const fates: Fates = { steps: new Map(), reports: [], followUps: new Map() };
  for (const [record, outcome] of outcomes) {
    let step = outcome.step;
    const writes = Boolean(outcome.row || outcome.abandoned?.length);
    const refusal = recorded.ok && outcome.row ? recorded.refused.get(outcome.row.id) : undefined;
    if (writes && !recorded.ok) {
      step = { kind: 'delay', seconds: outageDelay(record) };
    } else if (outcome.row && refusal !== undefined) {
      step = { kind: 'dead-letter', reason: refusal, taskId: outcome.row.id, attempts: outcome.row.fence ?? 0 };
      fates.reports.push({ level: 'error', message: 'task outcome refused by the result store; recorded as its failure', task: outcome.row.name, metric: taskMetrics.failed, fields: { taskId: outcome.row.id, messageId: record.messageId, state: 'FAILURE', error: refusal } });
    } else if (recorded.ok && outcome.row?.fence !== undefined && recorded.superseded.has(outcome.row.id)) {
      // Revoked while it ran: the revocation stands. Otherwise another attempt holds the task.
      step = recorded.superseded.get(outcome.row.id) === 'REVOKED' ? { kind: 'ack' } : { kind: 'leave' };
    } else {
      if (outcome.report) fates.reports.push(outcome.report);
      if (outcome.followUps?.length) fates.followUps.set(record, [...outcome.followUps]);
    }
    fates.steps.set(record, step);
  }
  return fates;
}

/**
 * Carries the fates out: chords' callbacks and chains' next steps sent, dead letters
 * moved, delays set. Returns the records that are done (acknowledged or dead-lettered);
 * any whose sending failed stays on the queue and comes back to send again.
 */
export async function settle(fates: Fates, recorded: Recorded, outcomes: Outcomes, lookup: TaskLookup, batch: BatchContext): Promise<Set<SQSRecord>> {
  const { settings } = batch;
  const { sqs, logger, queue } = settings;
  const done = new Set([...fates.steps].flatMap(([record, step]) => (step.kind === 'ack' || step.kind === 'dead-letter' ? [record] : [])));
  if (recorded.ok && recorded.completedChords.size > 0) {
    const { callbacks, failed } = await chordCallbacks(recorded.completedChords, outcomes, lookup, batch);
    for (const [record, callback] of callbacks) fates.followUps.set(record, [...(fates.followUps.get(record) ?? []), ...callback]);
    for (const record of failed) done.delete(record);
  }
  if (fates.followUps.size > 0) {
    const urls = { ...settings.queueUrls, [queue.name]: settings.queueUrl, ...(settings.highPriority ? { [`${queue.name}-high`]: settings.highPriority.queueUrl } : {}) };
    const { sendable, failed } = await placeLargePayloads(fates.followUps, batch);
    for (const record of failed) done.delete(record);
    // What a high-priority message starts stays in the high lanes: a workflow keeps its priority.
    const unsent = await sendMessages(sqs, urls, [...sendable].flatMap(([record, messages]) => {
      const inherited = laneOfRecord(record, settings);
      return messages.map((message) => ({ key: record, message: { ...message, lane: laneName(message.queue, inherited === 'high' ? 'high' : message.priority) } }));
    }));
    for (const record of unsent) {
      // The success is recorded; the message comes back as a duplicate, which sends again.
      done.delete(record);
      logger.error('could not send a workflow follow-up; the message will be redelivered to send it again', { messageId: record.messageId });
    }
  }
  const letters: DeadLetter[] = [];
  const delays: { record: SQSRecord; seconds: number }[] = [];
  for (const [record, step] of fates.steps) {
    if (step.kind === 'dead-letter') letters.push({ record, reason: step.reason, taskId: step.taskId, attempts: step.attempts });
    if (step.kind === 'delay') delays.push({ record, seconds: step.seconds });
  }
  // Each lane's dead letters go to its own dead-letter queue, so a redrive returns them to their lane.
  for (const [priority, lettersOfLane] of Map.groupBy(letters, (letter) => laneOfRecord(letter.record, settings))) {
    const unsent = await sendToDeadLetterQueue(sqs, laneUrls(settings, priority).deadLetterQueueUrl, lettersOfLane);
    for (const letter of lettersOfLane.filter((candidate) => unsent.has(candidate.record.messageId))) {
      done.delete(letter.record);
      logger.error('could not send to the dead-letter queue; the message will be retried', { messageId: letter.record.messageId });
    }
  }
  for (const [priority, delaysOfLane] of Map.groupBy(delays, (delay) => laneOfRecord(delay.record, settings))) {
    const problems = await delayMessages(sqs, laneUrls(settings, priority).queueUrl, delaysOfLane);
    if (problems.length > 0) logger.warn('could not change message visibility; messages return after the visibility timeout', { problems });
  }
  return done;
}
