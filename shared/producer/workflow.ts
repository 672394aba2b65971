import { randomUUID } from 'node:crypto';
import type { TaskName, TaskPayload } from '../catalogue/index.ts';
import type { Signature } from '../envelope/envelope.ts';

/**
 * Celery's canvas on SQS: a signature is a task with some of its arguments, sent later;
 * the runtime passes results along (see shared/runtime/workflow.ts).
 */
export interface SignatureOptions {
  /** The task id, fixed now so the workflow's result can be awaited before it runs. @default a UUID */
  readonly id?: string;
  /** The payload field that receives the previous result; without it an object result is merged in. */
  readonly resultAs?: string;
  /** Ignore the previous result and run with this payload alone (Celery's `.si()`). */
  readonly immutable?: boolean;
}

/** A task with (some of) its payload; a chain step or chord callback gets the rest from the result before it. */
export function signature<Name extends TaskName>(task: Name, payload: Partial<TaskPayload<Name>> = {}, options: SignatureOptions = {}): Signature {
  return signatureByName(task, payload as Record<string, unknown>, options);
}

/** `signature` for a task named at run time (the CLI, tests): the payload is checked when the message is built. */
export function signatureByName(task: string, payload: Record<string, unknown> = {}, options: SignatureOptions = {}): Signature {
  if (options.resultAs && options.immutable) throw new Error('a signature either takes the previous result (resultAs) or ignores it (immutable)');
  return {
    id: options.id ?? randomUUID(),
    task,
    payload: payload as Signature['payload'],
    ...(options.resultAs ? { resultAs: options.resultAs } : {}),
    ...(options.immutable ? { immutable: true } : {}),
  };
}

/** Runs one after another, each step given the result before it (Celery's `chain(a, b, c)`). */
export interface Chain {
  readonly kind: 'chain';
  readonly steps: readonly Signature[];
}

/** Runs at once, in parallel; the results collect in member order (Celery's `group([...])`). */
export interface Group {
  readonly kind: 'group';
  readonly id: string;
  readonly members: readonly Signature[];
}

/** A group whose callback runs once, when every member has succeeded, with their results (Celery's `chord`). */
export interface Chord {
  readonly kind: 'chord';
  readonly header: Group;
  readonly callback: Signature;
}

export type Workflow = Chain | Group | Chord;

export function chain(...steps: Signature[]): Chain {
  if (steps.length === 0) throw new Error('a chain needs at least one step');
  if (steps.length > 101) throw new Error('a chain has at most 101 steps');
  return { kind: 'chain', steps };
}

export function group(members: readonly Signature[], options: { readonly id?: string } = {}): Group {
  if (members.length === 0) throw new Error('a group needs at least one member');
  if (members.length > 10_000) throw new Error('a group has at most 10,000 members');
  return { kind: 'group', id: options.id ?? randomUUID(), members };
}

/** The callback receives the members' results in `results` unless its signature names another field. */
export function chord(header: Group | readonly Signature[], callback: Signature): Chord {
  return { kind: 'chord', header: 'kind' in header ? header : group(header), callback };
}
