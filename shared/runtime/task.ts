import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { TaskDefinition } from '../catalogue/index.ts';
import type { Envelope } from '../envelope/envelope.ts';
import type { Database } from '../results/database.ts';
import type { TaskServices } from '../services.ts';

/** What a running task knows about itself. */
export interface TaskContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** 1 on the first run, 2 on the first retry, … */
  readonly attempt: number;
  readonly maxRetries: number;
  /** Fires at the soft time limit: stop work, clean up, return or throw. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly envelope: Envelope;
  readonly database: Database;
  readonly services: TaskServices;
}

export type TaskRun<Payload> = (payload: Payload, context: TaskContext) => unknown;

/** A catalogue entry with the code that runs it. */
export interface TaskImplementation<Definition extends TaskDefinition = TaskDefinition> {
  readonly definition: Definition;
  readonly run: TaskRun<z.output<Definition['payload']>>;
}

/** Binds a catalogue task to its code; the payload's type comes from the task's schema. */
export function implement<Definition extends TaskDefinition>(
  definition: Definition,
  run: TaskRun<z.output<Definition['payload']>>,
): TaskImplementation<Definition> {
  return { definition, run };
}
