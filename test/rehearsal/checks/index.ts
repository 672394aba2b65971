import type { Check } from './check.ts';
import { webhookReceives, schedulesRun } from './entry-points.ts';
import { uniqueTaskFolded } from './flow-control.ts';
import { everyCallAllowed } from './permissions.ts';
import { bundlesLoad, migrationsApply, sdksInChunks } from './startup.ts';
import { deadLettersAtOnce, largeResultKept, queueDrains, stripeTasksReachTheFixture } from './tasks.ts';
import { chainOnOneQueue, chordAcrossQueues, errbackRuns, nestedWorkflow } from './workflows.ts';

export type { Check } from './check.ts';

/** The rehearsal's checks, in the order they must run: the bundles load, the migrations apply, then the traffic. */
export const checks: readonly Check[] = [
  bundlesLoad,
  sdksInChunks,
  migrationsApply,
  queueDrains('default'),
  queueDrains('ai'),
  queueDrains('data'),
  uniqueTaskFolded,
  queueDrains('billing'),
  deadLettersAtOnce,
  largeResultKept,
  chainOnOneQueue,
  chordAcrossQueues,
  nestedWorkflow,
  errbackRuns,
  webhookReceives,
  schedulesRun,
  stripeTasksReachTheFixture,
  everyCallAllowed,
];
