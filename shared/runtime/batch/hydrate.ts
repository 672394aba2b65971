import type { SQSRecord } from 'aws-lambda';
import { payloadRef } from '../../envelope/envelope.ts';
import { parseWireJson } from '../../envelope/wire.ts';
import { taskMetrics } from '../../observability/index.ts';
import type { Database } from '../../results/database.ts';
import { PayloadMismatchError, PayloadMissingError, type PayloadRef } from '../../results/payloads.ts';
import { endedAmong } from '../../results/statements.ts';
import type { Outcome, Outcomes } from './outcome.ts';
import type { Plan } from './plan.ts';

/** What became of the records that carry their payload by reference. */
export interface Hydrated {
  /** Each such envelope with its payload in place, for the plan to check like any other. */
  readonly envelopes: Map<SQSRecord, unknown>;
  /** Records that can never run, with why: their object is gone, altered or not JSON. */
  readonly refused: Map<SQSRecord, string>;
  /** Copies of tasks that already ended, whose object went with them: acknowledged. */
  readonly ended: Map<SQSRecord, { readonly id: string; readonly task: string }>;
  /** Records whose object could not be read now (the bucket or the store did not answer): they wait. */
  readonly unavailable: Set<SQSRecord>;
}

/**
 * Reads the payloads of the batch's messages that carry a `payloadRef` (the claim-check
 * pattern) before anything is planned: each object is fetched and checked against its size
 * and digest, then as the wire checks a message body. A message without one costs nothing
 * here. An object that is gone belongs either to a task that ended (it was deleted with
 * the task's success or revocation: this is a duplicate) or to one that never will run.
 */
export async function hydrate(records: readonly SQSRecord[], database: () => Promise<Database>): Promise<Hydrated> {
  const hydrated: Hydrated = { envelopes: new Map(), refused: new Map(), ended: new Map(), unavailable: new Set() };
  const referring: { record: SQSRecord; envelope: Record<string, unknown>; ref: PayloadRef }[] = [];
  for (const record of records) {
    if (!record.body.includes('"payloadRef"')) continue;
    let envelope: unknown;
    try {
      envelope = parseWireJson(record.body);
    } catch {
      continue; // the plan refuses it with the reason
    }
    // A reference the schema refuses is left to the plan, which refuses the message with the reason.
    const checked = payloadRef.safeParse((envelope as { payloadRef?: unknown }).payloadRef);
    if (checked.success) referring.push({ record, envelope: envelope as Record<string, unknown>, ref: checked.data });
  }
  if (referring.length === 0) return hydrated;
  let store;
  try {
    store = (await database()).payloads;
  } catch {
    for (const { record } of referring) hydrated.unavailable.add(record);
    return hydrated;
  }
  const missing: typeof referring = [];
  await Promise.all(referring.map(async (item) => {
    if (!store) {
      hydrated.refused.set(item.record, `its payload is in the files bucket (${item.ref.key}), and this consumer has no bucket configured to read it (RESULTS_BUCKET)`);
      return;
    }
    try {
      const payload = parseWireJson(await store.get(item.ref));
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) hydrated.refused.set(item.record, `its payload object ${item.ref.key} is not a JSON object`);
      else hydrated.envelopes.set(item.record, { ...item.envelope, payload });
    } catch (error) {
      if (error instanceof PayloadMissingError) missing.push(item);
      else if (error instanceof PayloadMismatchError || error instanceof SyntaxError) hydrated.refused.set(item.record, `its payload object: ${(error as Error).message}`);
      else hydrated.unavailable.add(item.record);
    }
  }));
  if (missing.length === 0) return hydrated;
  try {
    const ended = new Set(await endedAmong(await database(), missing.map((item) => String(item.envelope.id))));
    for (const item of missing) {
      if (ended.has(String(item.envelope.id))) hydrated.ended.set(item.record, { id: String(item.envelope.id), task: String(item.envelope.task) });
      else hydrated.refused.set(item.record, `its payload object ${item.ref.key} does not exist: it expired, or was never put`);
    }
  } catch {
    for (const item of missing) hydrated.unavailable.add(item.record);
  }
  return hydrated;
}

/** A copy of a task that ended, its payload object gone with it: acknowledged, as any duplicate of a finished task is. */
export function endedCopy(record: SQSRecord, task: { readonly id: string; readonly task: string }): Outcome {
  return { step: { kind: 'ack' }, report: { level: 'info', message: 'task already ended; duplicate delivery acknowledged', task: task.task, metric: taskMetrics.duplicate, fields: { taskId: task.id, messageId: record.messageId } } };
}

/**
 * The payload objects this batch is done with: those of tasks that succeeded or were
 * revoked, once their message is settled. A failed task keeps its object, so its dead
 * letter can be redriven; the bucket's lifecycle rule removes it in the end.
 */
export function payloadsToForget(plans: ReadonlyMap<SQSRecord, Plan>, outcomes: Outcomes, done: ReadonlySet<SQSRecord>): string[] {
  const keys: string[] = [];
  for (const [record, plan] of plans) {
    const ref = plan.ok && !plan.duplicateInBatch ? plan.envelope.payloadRef : undefined;
    const outcome = outcomes.get(record);
    if (!ref || !outcome || !done.has(record)) continue;
    const ended = outcome.row?.status === 'SUCCESS' || outcome.row?.status === 'REVOKED' || outcome.report?.metric === taskMetrics.revoked;
    if (ended) keys.push(ref.key);
  }
  return keys;
}
