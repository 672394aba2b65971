import { randomUUID } from 'node:crypto';
import type { TaskName, TaskPayload } from '../catalogue/index.ts';
import { flowProblem, isGroupStep, type Flow, type GroupStep, type Signature, type Step } from '../envelope/flow.ts';

/**
 * Celery's canvas on SQS: a signature is a task with some of its arguments, sent later;
 * chains, groups and chords of them nest as Celery's do (a group followed by more steps
 * is a chord). The runtime passes results along (see shared/runtime/workflow.ts).
 */
export interface SignatureOptions {
  /** The task id, fixed now so the workflow's result can be awaited before it runs. @default a UUID */
  readonly id?: string;
  /** The payload field that receives the previous result; without it an object result is merged in. */
  readonly resultAs?: string;
  /** Ignore the previous result and run with this payload alone (Celery's `.si()`). */
  readonly immutable?: boolean;
  /** Sent once if this task fails for good, given the failure (Celery's `link_error`). */
  readonly linkError?: readonly Signature[];
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
    ...(options.linkError?.length ? { linkError: [...options.linkError] } : {}),
  };
}

/** Runs one after another, each step given the result before it (Celery's `chain(a, b, c)`). */
export interface Chain<End extends Ending = Ending> {
  readonly kind: 'chain';
  readonly steps: Flow;
  /** Types only: whether the chain ends with a task or a group, so its handle is typed. */
  readonly ends?: End;
}

/** Runs at once, in parallel; the results collect in member order (Celery's `group([...])`). Each member may be a chain or a chord. */
export interface Group {
  readonly kind: 'group';
  readonly id: string;
  readonly members: readonly Flow[];
}

/** A group whose callback runs once, when every member has succeeded, with their results (Celery's `chord`). */
export interface Chord<End extends Ending = Ending> {
  readonly kind: 'chord';
  readonly header: Group;
  readonly callback: Flow;
  readonly ends?: End;
}

export type Workflow = Chain | Group | Chord;
/** Anything a workflow is built from. */
export type Part = Signature | Workflow;

/** What a workflow ends with, which decides its handle: one task's result, or a group's. */
export type Ending = 'task' | 'group';
export type EndOf<P> = P extends Group ? 'group' : P extends Chain<infer E> ? E : P extends Chord<infer E> ? E : 'task';
type Last<P extends readonly unknown[]> = P extends readonly [...unknown[], infer L] ? L : P[number];

const maxSteps = 101;

/** A part as the steps the envelope carries. */
export function flowOf(part: Part): Flow {
  if (!('kind' in part)) return [part];
  switch (part.kind) {
    case 'chain':
      return part.steps;
    case 'group':
      return [groupStepOf(part)];
    case 'chord':
      return [groupStepOf(part.header), ...part.callback];
  }
}

const groupStepOf = (part: Group): GroupStep => ({ group: part.id, members: part.members.map((member) => [...member]) });

/** Steps in order; a group followed by more steps becomes a chord, as in Celery. */
export function chain<const P extends readonly Part[]>(...parts: P): Chain<EndOf<Last<P>>> {
  if (parts.length === 0) throw new Error('a chain needs at least one step');
  const steps = parts.flatMap(flowOf);
  if (steps.length > maxSteps) throw new Error(`a chain has at most ${maxSteps} steps`);
  refuse(flowProblem(steps, false));
  return { kind: 'chain', steps };
}

export function group(members: readonly Part[], options: { readonly id?: string } = {}): Group {
  if (members.length === 0) throw new Error('a group needs at least one member');
  if (members.length > 10_000) throw new Error('a group has at most 10,000 members');
  const flows = members.map(flowOf);
  refuse(flowProblem([{ group: 'group', members: flows.map((member) => [...member]) }], false));
  return { kind: 'group', id: options.id ?? randomUUID(), members: flows };
}

/** The callback receives the members' results in `results` unless its first task names another field. */
export function chord<C extends Part>(header: Group | readonly Part[], callback: C): Chord<EndOf<C>> {
  const members = 'kind' in header ? header : group(header);
  const steps = flowOf(callback);
  refuse(flowProblem(steps, false, 'callback'));
  return { kind: 'chord', header: members, callback: steps };
}

/**
 * Adds an error callback, as Celery's `link_error` does: on a task, to it; on a chain, to
 * each of its tasks (a group ending the chain: to its members); on a group, to every
 * member; on a chord, to its callback, which a failing member then leaves unrun.
 */
export function linkError<P extends Part>(part: P, errback: Signature): P {
  if (!('kind' in part)) return withErrback(part, errback) as P;
  switch (part.kind) {
    case 'chain':
      return { ...part, steps: flowWithErrback(part.steps, errback) };
    case 'group':
      return { ...part, members: part.members.map((member) => flowWithErrback(member, errback)) };
    case 'chord':
      return { ...part, callback: flowWithErrback(part.callback, errback) };
  }
  return part;
}

function flowWithErrback(steps: Flow, errback: Signature): Step[] {
  return steps.map((current, index) => {
    if (!isGroupStep(current)) return withErrback(current, errback);
    // A group followed by more steps is a chord's header: its callback carries the errback instead.
    return index === steps.length - 1 ? { ...current, members: current.members.map((member) => flowWithErrback(member, errback)) } : current;
  });
}

const withErrback = (task: Signature, errback: Signature): Signature => ({ ...task, linkError: [...(task.linkError ?? []), errback] });

/** The task whose result is a flow's: its last, which a group member's flow must end with. */
export function lastTask(steps: Flow): Signature | undefined {
  const last = steps.at(-1);
  return last && !isGroupStep(last) ? last : undefined;
}

function refuse(problem: string | undefined): void {
  if (problem) throw new Error(problem);
}
