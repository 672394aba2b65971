import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sql } from 'drizzle-orm';
import type { Database } from '../../shared/results/database.ts';
import { failureAttributes } from '../../shared/runtime/queue-actions.ts';
import type { EffectsJournal } from './effects.ts';

/** A message that must never run: the id its FAILURE row is filed under, and what its reason says. */
export interface PoisonSent {
  readonly label: string;
  /** The envelope's id when it has a usable one, else the SQS message id. */
  readonly rowId: string;
  readonly reason: RegExp;
}

export interface Expected {
  /** Task ids that must end SUCCESS, their effect applied exactly once. */
  readonly valid: readonly string[];
  readonly poison?: readonly PoisonSent[];
}

export interface Accounting {
  readonly scenario: string;
  readonly sent: number;
  /** SUCCESS, effect applied exactly once, not in the DLQ. */
  readonly succeeded: number;
  /** FAILURE row with a reason and a dead letter carrying `taskq.failure.reason`. */
  readonly deadLettered: number;
  /** Neither of those: no row, a row still pending, a FAILURE without its dead letter, a SUCCESS without its effect. */
  readonly lost: readonly string[];
  /** Effect applied more than once, or a poison message that ran. */
  readonly ranTwice: readonly string[];
  /** Valid tasks dead-lettered, poison that succeeded or failed for another reason. */
  readonly misfiled: readonly string[];
  /** Runs beyond the first: a run a fault cut short, redelivered. */
  readonly reRuns: number;
  /** Runs that found their effect already applied (cut between the effect and its record) and did not apply it again. */
  readonly effectAlreadyApplied: number;
  /** Dead letters that match no message sent. */
  readonly strayDeadLetters: number;
  /** Dead-letter reasons holding characters SQS refuses in an attribute. */
  readonly badReasonAttributes: readonly string[];
  readonly rows: ReadonlyMap<string, ResultRow>;
}

export interface ResultRow {
  readonly id: string;
  readonly status: string;
  readonly error: string | null;
  readonly attempts: number;
}

/** SQS's characters for bodies and attribute values. */
// eslint-disable-next-line no-control-regex
const sqsCharacters = /^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

/**
 * Full accounting of every message sent: reads the result store, receives every dead
 * letter (with the runtime's failure attributes) and reads the effects journal.
 */
export async function account(options: {
  readonly scenario: string;
  readonly database: Database;
  readonly sqs: SQSClient;
  readonly deadLetterUrl: string;
  readonly journal: EffectsJournal;
  readonly expected: Expected;
}): Promise<Accounting> {
  const { expected } = options;
  const rows = new Map(
    (await options.database.rows<ResultRow>(sql`select id, status, error, attempts from task_results`)).map((row) => [row.id, { ...row, attempts: Number(row.attempts) }]),
  );
  const letters = await receiveAll(options.sqs, options.deadLetterUrl);
  const reasons = new Map<string, string>();
  const badReasonAttributes: string[] = [];
  let strayDeadLetters = 0;
  const sentIds = new Set([...expected.valid, ...(expected.poison ?? []).map((p) => p.rowId)]);
  for (const letter of letters) {
    const id = letter.MessageAttributes?.[failureAttributes.taskId]?.StringValue;
    const reason = letter.MessageAttributes?.[failureAttributes.reason]?.StringValue;
    if (!id || !sentIds.has(id) || reasons.has(id)) {
      strayDeadLetters++;
      continue;
    }
    reasons.set(id, reason ?? '');
    if (reason !== undefined && !sqsCharacters.test(reason)) badReasonAttributes.push(id);
  }
  const effects = new Map<string, number>();
  const starts = new Map<string, number>();
  let effectAlreadyApplied = 0;
  for (const entry of options.journal.entries()) {
    if (entry.kind === 'effect') effects.set(entry.id, (effects.get(entry.id) ?? 0) + 1);
    if (entry.kind === 'start') starts.set(entry.id, (starts.get(entry.id) ?? 0) + 1);
    if (entry.kind === 'skip') effectAlreadyApplied++;
  }

  const lost: string[] = [];
  const ranTwice: string[] = [];
  const misfiled: string[] = [];
  let succeeded = 0;
  let deadLettered = 0;
  let reRuns = 0;
  const fate = (id: string): 'success' | 'dead-letter' | 'lost' => {
    const row = rows.get(id);
    if (row?.status === 'SUCCESS' && effects.get(id) === 1 && !reasons.has(id)) return 'success';
    if (row?.status === 'FAILURE' && row.error && reasons.get(id)) return 'dead-letter';
    return 'lost';
  };
  for (const id of expected.valid) {
    const outcome = fate(id);
    if ((effects.get(id) ?? 0) > 1) ranTwice.push(id);
    else if (outcome === 'success') succeeded++;
    else if (outcome === 'dead-letter') {
      deadLettered++;
      misfiled.push(`${id}: dead-lettered: ${rows.get(id)?.error}`);
    } else lost.push(`${id}: ${rows.get(id)?.status ?? 'no row'}, ${effects.get(id) ?? 0} effects, ${reasons.has(id) ? 'in' : 'not in'} the DLQ`);
    reRuns += Math.max(0, (starts.get(id) ?? 0) - 1);
  }
  for (const poison of expected.poison ?? []) {
    const outcome = fate(poison.rowId);
    if (starts.has(poison.rowId)) ranTwice.push(`${poison.label}: ran`);
    else if (outcome === 'dead-letter') {
      deadLettered++;
      if (!poison.reason.test(rows.get(poison.rowId)!.error!)) misfiled.push(`${poison.label}: reason ${JSON.stringify(rows.get(poison.rowId)!.error)}`);
    } else if (outcome === 'success') {
      succeeded++;
      misfiled.push(`${poison.label}: succeeded`);
    } else {
      const row = rows.get(poison.rowId);
      lost.push(`${poison.label}: ${row?.status ?? 'no row'} ${JSON.stringify(row?.error ?? null)}, ${reasons.has(poison.rowId) ? 'in' : 'not in'} the DLQ`);
    }
  }
  return {
    scenario: options.scenario,
    sent: sentIds.size,
    succeeded,
    deadLettered,
    lost,
    ranTwice,
    misfiled,
    reRuns,
    effectAlreadyApplied,
    strayDeadLetters,
    badReasonAttributes,
    rows,
  };
}

/** Receives every message of a queue, hiding each for the rest of the test. */
export async function receiveAll(sqs: SQSClient, queueUrl: string) {
  const messages = [];
  for (let empty = 0; empty < 2; ) {
    const response = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600, MessageAttributeNames: ['All'] }),
    );
    const received = response.Messages ?? [];
    messages.push(...received);
    empty = received.length === 0 ? empty + 1 : 0;
  }
  return messages;
}

/** The per-scenario table on stdout. */
export function printAccounting(accounting: Accounting, extra: Record<string, string | number> = {}): void {
  const columns: [string, string | number][] = [
    ['scenario', accounting.scenario],
    ['sent', accounting.sent],
    ['SUCCESS once', accounting.succeeded],
    ['dead-lettered (FAILURE + reason)', accounting.deadLettered],
    ['lost', accounting.lost.length],
    ['ran twice', accounting.ranTwice.length],
    ['re-runs', accounting.reRuns],
    ['effect already applied', accounting.effectAlreadyApplied],
    ...Object.entries(extra),
  ];
  const widths = columns.map(([name, value]) => Math.max(name.length, String(value).length));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  const text = [line(columns.map(([name]) => name)), line(widths.map((w) => '-'.repeat(w))), line(columns.map(([, value]) => String(value)))];
  const problems = [...accounting.lost.map((p) => `lost: ${p}`), ...accounting.ranTwice.map((p) => `ran twice: ${p}`), ...accounting.misfiled.map((p) => `misfiled: ${p}`)];
  console.log(['', ...text, ...problems.slice(0, 30), ''].join('\n'));
}

/** What every scenario asserts: everything sent is accounted for, once. */
export function fullyAccounted(accounting: Accounting) {
  return {
    lost: accounting.lost,
    ranTwice: accounting.ranTwice,
    misfiled: accounting.misfiled,
    strayDeadLetters: accounting.strayDeadLetters,
    badReasonAttributes: accounting.badReasonAttributes,
    total: accounting.succeeded + accounting.deadLettered,
  };
}
