// Written by hand: no JavaScript library reads Celery's canvas; the shapes follow celery/canvas.py (5.2) and fixtures it produced.
import * as z from 'zod';
import { bindArguments, check, positionalFields, Unmappable, type SchemaOf } from './celery-args.ts';
import type { Flow, GroupStep, Signature, Step } from './flow.ts';
import { derivedTaskId, taskId } from './task-id.ts';

/** What mapping a message's canvas needs: every task's schema, and ids for signatures sent without one. */
export interface CanvasContext {
  /** Any task's payload schema by name or alias, whichever queue runs it. */
  readonly schemaOf: SchemaOf;
  /** A fixed id for the signature at `path` of this message, so a redelivery derives the same. */
  readonly idFor: (path: string) => string;
}

/** A signature as `Signature.__json__` writes it (celery/canvas.py): composites name their kind in `subtask_type`. */
const celerySignature = z.looseObject({
  task: z.string().min(1),
  args: z.array(z.json()).nullish(),
  kwargs: z.record(z.string(), z.unknown()).nullish(),
  options: z.record(z.string(), z.unknown()).nullish(),
  subtask_type: z.string().nullish(),
  immutable: z.boolean().nullish(),
});
type CelerySignature = z.infer<typeof celerySignature>;

const builtinKinds: Record<string, string> = { 'celery.chain': 'chain', 'celery.group': 'group', 'celery.chord': 'chord' };

/** Per-call options a signature in a workflow cannot carry here, and why. */
const unsupportedOptions: Record<string, string> = {
  countdown: 'a countdown on a workflow step', eta: 'an eta on a workflow step', expires: 'an expiry on a workflow step',
  time_limit: 'a per-call time limit', soft_time_limit: 'a per-call soft time limit', link: 'a link= callback on a workflow step',
};

/** Deterministic UUID-shaped ids, from the message's task id and a signature's place in it. */
export function derivedIds(messageId: string): (path: string) => string {
  return (path) => derivedTaskId(messageId, path);
}

/**
 * A signature as the steps it stands for: a task, a group, a chain's steps, or a chord's
 * group followed by its body. `given` when the step before hands its result in, which
 * Celery prepends to the positional args (`apply_async((retval,) + args)`): it fills the
 * task's first field unless the signature is immutable (`.si()`).
 */
export function stepsOf(raw: unknown, context: CanvasContext, where: string, given: boolean): Step[] {
  const sig = check(celerySignature, raw, where);
  const kind = sig.subtask_type ?? builtinKinds[sig.task];
  if (kind && (sig.options?.link || sig.options?.link_error)) {
    throw new Unmappable(`${where}.options: link= or link_error= on a whole ${kind} is not supported: put it on its tasks`);
  }
  switch (kind) {
    case undefined:
      return [signatureOf(sig, context, where, given)];
    case 'chain':
      return list(sig.kwargs?.tasks, `${where}.kwargs.tasks`).flatMap((task, index) => stepsOf(task, context, `${where}.kwargs.tasks[${index}]`, index === 0 ? given : true));
    case 'group':
      return [groupOf(sig, context, where, given)];
    case 'chord': {
      const header = sig.kwargs?.header;
      const members = Array.isArray(header) ? groupOf({ task: 'celery.group', kwargs: { tasks: header } }, context, `${where}.kwargs.header`, given) : groupOf(check(celerySignature, header, `${where}.kwargs.header`), context, `${where}.kwargs.header`, given);
      return [members, ...stepsOf(sig.kwargs?.body, context, `${where}.kwargs.body`, true)];
    }
    default:
      throw new Unmappable(`${where}.subtask_type: '${kind}' (${sig.task}) has no equivalent here: send its tasks as a group`);
  }
}

function groupOf(sig: CelerySignature, context: CanvasContext, where: string, given: boolean): GroupStep {
  const members = list(sig.kwargs?.tasks, `${where}.kwargs.tasks`).map((task, index) => stepsOf(task, context, `${where}.kwargs.tasks[${index}]`, given));
  return { group: idOf(sig, context, where), members };
}

function signatureOf(sig: CelerySignature, context: CanvasContext, where: string, given: boolean): Signature {
  for (const [option, what] of Object.entries(unsupportedOptions)) {
    if (sig.options?.[option] !== undefined && sig.options[option] !== null) throw new Unmappable(`${where}.options.${option}: ${what} is not supported here`);
  }
  const takesResult = given && sig.immutable !== true;
  let resultAs: string | undefined;
  if (takesResult) {
    resultAs = positionalFields(sig.task, context.schemaOf, where)[0];
    if (!resultAs) throw new Unmappable(`${where}: ${sig.task} takes no arguments, so the result before it has nowhere to go: use .si()`);
  }
  const payload = bindArguments(sig.task, sig.args ?? [], sig.kwargs ?? {}, context.schemaOf, takesResult ? 1 : 0, `${where}.args`);
  if (resultAs && resultAs in payload) throw new Unmappable(`${where}: the result before ${sig.task} and its own arguments both give '${resultAs}' (Celery: multiple values for one argument): use .si()`);
  const linkError = sig.options?.link_error ? errbacksOf(sig.options.link_error, context, `${where}.options.link_error`) : [];
  return {
    id: idOf(sig, context, where),
    task: sig.task,
    payload: payload as Signature['payload'],
    ...(resultAs ? { resultAs } : { immutable: true }),
    ...(linkError.length > 0 ? { linkError } : {}),
  };
}

/**
 * `link_error=` signatures as error callbacks. Only immutable ones map faithfully: Celery
 * calls a mutable errback with the failed task's id, or (new style) with its request,
 * exception and traceback inside the worker, and neither exists here.
 */
export function errbacksOf(raw: unknown, context: CanvasContext, where: string): Signature[] {
  return (Array.isArray(raw) ? raw : [raw]).map((entry, index) => {
    const sig = check(celerySignature, entry, `${where}[${index}]`);
    if (sig.subtask_type ?? builtinKinds[sig.task]) throw new Unmappable(`${where}[${index}]: a ${sig.subtask_type ?? sig.task} as an errback is not supported: link a task`);
    if (sig.immutable !== true) {
      throw new Unmappable(`${where}[${index}]: errback '${sig.task}' takes the failed task's id (or its request, exception and traceback) as Celery calls it, which cannot be passed here: link it with .si()`);
    }
    return signatureOf(sig, context, `${where}[${index}]`, false);
  });
}

/** `link=` signatures: flows started with the task's result when it succeeds. */
export function linksOf(raw: unknown, context: CanvasContext, where: string): Flow[] {
  return (Array.isArray(raw) ? raw : [raw]).map((entry, index) => stepsOf(entry, context, `${where}[${index}]`, true));
}

/** `chain` in protocol 2's embed: the steps after this task, last first (celery/app/trace.py pops them). */
export function chainOf(raw: unknown, context: CanvasContext): Flow {
  return list(raw, 'embed.chain').toReversed().flatMap((entry, index) => stepsOf(entry, context, `embed.chain[${index}]`, true));
}

const chordUnlockArgs = z.tuple([taskId, z.unknown()]);
const chordUnlockKwargs = z.looseObject({
  interval: z.number().positive().nullish(),
  // `GroupResult.as_tuple()` of each member: ((id, parent), children); a member that is a group itself has children.
  result: z.array(z.tuple([z.tuple([taskId, z.unknown()]), z.null()])).min(1).max(10_000),
});

/**
 * `celery.chord_unlock`, which Celery's database backend sends for a chord (it has no
 * counter: `fallback_chord_unlock`, celery/backends/base.py): it waits for the members,
 * then runs the body with their results. Here it becomes the queue's chord_unlock task
 * with the body as its chain, so the body is sent once, by the pipeline, when it succeeds.
 */
export function unlockOfChord(args: readonly unknown[], kwargs: Record<string, unknown>, context: CanvasContext, queue: string) {
  const [groupId, body] = check(chordUnlockArgs, args, 'args');
  const { interval, result } = check(chordUnlockKwargs, kwargs, 'kwargs');
  const bodySig = check(celerySignature, body, 'args[1]');
  const linkError = bodySig.options?.link_error ? errbacksOf(bodySig.options.link_error, context, 'args[1].options.link_error') : [];
  // The body keeps its errbacks for its own failure; the unlock carries them too, for a member's.
  const chain = stepsOf(bodySig, context, 'args[1]', true);
  return { task: `${queue}.chord_unlock`, payload: { groupId, members: result.map(([[id]]) => id), intervalSeconds: interval ?? 1 }, chain, linkError };
}

function idOf(sig: CelerySignature, context: CanvasContext, where: string): string {
  const given = sig.options?.task_id;
  if (given === undefined || given === null) return context.idFor(where);
  return check(taskId, given, `${where}.options.task_id`);
}

function list(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0) throw new Unmappable(`${where}: expected a list of signatures`);
  return value;
}
