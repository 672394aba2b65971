import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { setTimeout } from 'node:timers/promises';
import * as z from 'zod';
import { defineTask } from '../../shared/catalogue/index.ts';
import { implement } from '../../shared/runtime/task.ts';

/** What a run of the fault task wrote: it started, found its effect already applied, or applied it. */
export type JournalKind = 'start' | 'skip' | 'effect';

export interface JournalEntry {
  readonly kind: JournalKind;
  readonly id: string;
  readonly attempt: number;
  readonly pid: number;
  readonly at: number;
}

/**
 * The effects journal: one line per event, appended with a single `write` to a file, so
 * runs in several processes (a consumer that is killed, the next one) land in one place
 * and the test can read it at any time.
 */
export class EffectsJournal {
  readonly path: string;
  #offset = 0;
  readonly #applied = new Set<string>();

  constructor(path: string) {
    this.path = path;
  }

  note(kind: JournalKind, id: string, attempt: number): void {
    appendFileSync(this.path, `${kind} ${id} ${attempt} ${process.pid} ${Date.now()}\n`);
  }

  /** Whether any process has applied this task's effect (reads only what was appended since the last look). */
  applied(id: string): boolean {
    if (!existsSync(this.path)) return false;
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(size - this.#offset);
      readSync(fd, buffer, 0, buffer.length, this.#offset);
      const text = buffer.toString('utf8');
      // Only whole lines: a line is one write, but the reader may arrive between two.
      const end = text.lastIndexOf('\n') + 1;
      this.#offset += Buffer.byteLength(text.slice(0, end));
      for (const entry of parseLines(text.slice(0, end))) if (entry.kind === 'effect') this.#applied.add(entry.id);
    } finally {
      closeSync(fd);
    }
    return this.#applied.has(id);
  }

  entries(): JournalEntry[] {
    return existsSync(this.path) ? parseLines(readFileSync(this.path, 'utf8')) : [];
  }

  /** Runs a process started and has not ended: killed with it, or still going. */
  inFlight(pid: number): number {
    let open = 0;
    for (const entry of this.entries()) if (entry.pid === pid) open += entry.kind === 'start' ? 1 : -1;
    return open;
  }
}

function parseLines(text: string): JournalEntry[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, id, attempt, pid, at] = line.split(' ');
      return { kind: kind as JournalKind, id: id!, attempt: Number(attempt), pid: Number(pid), at: Number(at) };
    });
}

/**
 * The fault scenarios' task: works for `ms`, then applies its effect. Like any task with a
 * side effect outside the result store (a Stripe call with its idempotency key), it first
 * checks whether its task id already applied it: a run cut short between its effect and
 * the runtime's record of it (a killed process, a database outage) is redelivered and must
 * not apply it again. Two runs at once would both pass the check: the journal shows it.
 */
export const faultWork = defineTask({
  name: 'default.fault_work',
  queue: 'default',
  description: 'works for `ms`, then applies its effect once per task id',
  payload: z.strictObject({ n: z.int(), ms: z.int().min(0).max(2_000), label: z.string().max(200).optional() }),
  retry: { maxRetries: 5, backoffBaseSeconds: 1, backoffMaxSeconds: 2, jitter: true },
  softTimeLimitSeconds: 2,
  timeLimitSeconds: 3,
});

export function faultImplementations(journal: EffectsJournal) {
  return [
    implement(faultWork, async ({ n, ms }, { id, attempt, signal }) => {
      journal.note('start', id, attempt);
      if (journal.applied(id)) {
        journal.note('skip', id, attempt);
        return { n, applied: false };
      }
      await setTimeout(ms, undefined, { signal });
      journal.note('effect', id, attempt);
      return { n, applied: true };
    }),
  ];
}
