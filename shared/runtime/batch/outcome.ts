import type { SQSRecord } from 'aws-lambda';
import type { ParsedMessage } from '../parse.ts';
import type { Envelope } from '../../envelope/envelope.ts';
import type { taskMetrics } from '../../observability/index.ts';
import type { TaskOutcomeRow } from '../../results/finish.ts';
import type { FollowUp } from '../workflow.ts';

/** What becomes of a message once its batch is recorded. */
export type Step =
  | { readonly kind: 'ack' }
  | { readonly kind: 'delay'; readonly seconds: number }
  | { readonly kind: 'dead-letter'; readonly reason: string; readonly taskId: string; readonly attempts: number }
  /** The attempt lost its lease to another: leave the message to that attempt. */
  | { readonly kind: 'leave' };

/** A record's decided fate, before anything is written or sent. */
export interface Outcome {
  readonly step: Step;
  /** The row to write; none when nothing about the task changed. */
  readonly row?: TaskOutcomeRow;
  /** What to log and count once the row is recorded. */
  readonly report?: Report;
  /** Workflow tasks that will never run because this one did not succeed. */
  readonly abandoned?: readonly TaskOutcomeRow[];
  /** Messages to send once the row is recorded: a chain's next step, a chord's callback. */
  readonly followUps?: readonly FollowUp[];
  /** A chord member's envelope: the callback is sent if this write completes the chord. */
  readonly chordMember?: Envelope;
  /** The task's own envelope, so a refusal of its outcome can end the workflow steps after it. */
  readonly envelope?: Envelope;
  /** A duplicate of a finished workflow task: its follow-ups are rebuilt and sent again. */
  readonly resend?: Envelope;
}

export interface Report {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly task: string;
  readonly metric?: (typeof taskMetrics)[keyof typeof taskMetrics];
  readonly runtimeMs?: number;
  readonly attempts?: number;
  readonly fields: Record<string, unknown>;
}

/** Each record's outcome, in the batch's order. */
export type Outcomes = Map<SQSRecord, Outcome>;

/** What every report of a task's message names. */
export const fieldsOf = (plan: ParsedMessage, record: SQSRecord) => ({ taskId: plan.envelope.id, task: plan.implementation.definition.name, messageId: record.messageId });
