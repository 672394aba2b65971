import * as z from 'zod';
import { taskId } from './task-id.ts';

/**
 * Workflows as the envelope carries them (Celery's canvas, nested): a flow is a list of
 * steps run one after another, each given the result before it; a step is a task (a
 * signature) or a group, whose members are flows of their own run in parallel. A group
 * followed by more steps is a chord: the rest of the flow runs once every member has
 * succeeded, given their results in order. Each member task carries its group membership,
 * and a membership carries the one around it, so chords nest at any level.
 */

/** A payload field name that receives the previous result. */
const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a field name');

/** At most this many error callbacks on one task: each is a message sent when it fails. */
const maxErrbacks = 10;

/** A task to send later (Celery's signature): its id is fixed when the workflow is built, so sending it twice runs it once. */
export const signature = z
  .strictObject({
    id: taskId,
    task: z.string().min(1).max(200),
    payload: z.record(z.string(), z.json()),
    resultAs: fieldName
      .optional()
      .describe('put the previous result in this payload field; without it an object result is merged under the payload'),
    immutable: z.boolean().optional().describe("run with this payload alone, ignoring the previous result (Celery's `.si()`)"),
    get linkError(): z.ZodOptional<z.ZodArray<typeof signature>> {
      return z
        .array(signature)
        .min(1)
        .max(maxErrbacks)
        .optional()
        .describe("tasks sent once if this one fails for good, given the failure in `failure` unless they name another field (Celery's `link_error`)");
    },
  })
  .meta({ id: 'TaskSignature' });

export type Signature = z.infer<typeof signature>;

/** Members run in parallel; a group followed by more steps is a chord. */
export const groupStep = z
  .strictObject({
    group: taskId.describe("the group's id: its members' results are read under it, in member order"),
    get members(): z.ZodArray<typeof flow> {
      return z.array(flow).min(1).max(10_000).describe('each member a flow of its own; its last task gives the member’s result');
    },
  })
  .meta({ id: 'TaskGroup' });

export type GroupStep = z.infer<typeof groupStep>;
export type Step = Signature | GroupStep;
export type Flow = readonly Step[];

export const step = z.union([signature, groupStep]);
export const flow = z.array(step).min(1).max(100).meta({ id: 'TaskFlow' });

/** A task's place in a group (`index` below `size`, checked with the envelope): counted when its flow ends, towards the callback if the group has one. */
export const membership = z
  .strictObject({
    id: taskId,
    index: z.int().min(0),
    size: z.int().min(1).max(10_000),
    callback: z
      .union([signature, flow])
      .optional()
      .describe("a chord's callback (a task, or a flow): started once, when every member has succeeded, with their results in order"),
    get parent(): z.ZodOptional<typeof membership> {
      return membership.optional().describe('the group this whole group is a member of: the callback’s flow ends as that member');
    },
  })
  .meta({ id: 'TaskGroupMembership' });

export type Membership = z.infer<typeof membership>;

export const isGroupStep = (value: Step): value is GroupStep => 'members' in value;

/** A membership's callback as a flow (a single task is a flow of one). */
export function callbackFlow(group: Membership): Flow | undefined {
  if (!group.callback) return undefined;
  return Array.isArray(group.callback) ? group.callback : [group.callback as Signature];
}

/** A task a flow starts with, and what it carries on: the rest of its flow and its group. */
export interface Start {
  readonly signature: Signature;
  readonly chain?: Flow;
  readonly group?: Membership;
}

/**
 * The tasks that start `flow`: its first task, or every member's first task when it
 * starts with a group (the steps after the group becoming the group's callback). A flow
 * that is itself a group member hands its membership to the task that ends it.
 */
export function starts(steps: Flow, group?: Membership): Start[] {
  const [first, ...rest] = steps;
  if (!first) return [];
  if (!isGroupStep(first)) return [{ signature: first, ...(rest.length > 0 ? { chain: rest } : {}), ...(group ? { group } : {}) }];
  const size = first.members.length;
  return first.members.flatMap((member, index) =>
    starts(member, { id: first.group, index, size, ...(rest.length > 0 ? { callback: rest } : {}), ...(group ? { parent: group } : {}) }),
  );
}

/**
 * Why a flow cannot run as Celery would, or undefined. A group that ends a group member's
 * flow would leave that member without one result for the outer group to count.
 */
export function flowProblem(steps: Flow, insideGroup: boolean, where = 'chain'): string | undefined {
  for (const [index, current] of steps.entries()) {
    if (!isGroupStep(current)) continue;
    if (insideGroup && index === steps.length - 1) return `${where}: a group ends a group member's flow; end the member with a task that collects its results`;
    for (const [member, memberFlow] of current.members.entries()) {
      const problem = flowProblem(memberFlow, true, `${where}[${index}].members[${member}]`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** Every task in a flow, group members' included, in order. */
export function tasksOf(steps: Flow): Signature[] {
  return steps.flatMap((current) => (isGroupStep(current) ? current.members.flatMap(tasksOf) : [current]));
}
