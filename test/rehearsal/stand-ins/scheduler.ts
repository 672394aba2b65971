import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SchedulerApi } from '../../../shared/local/scheduler-api.ts';
import { resourcesOfType, type Template } from '../assembly.ts';
import type { LocalValues } from '../environment.ts';

/**
 * EventBridge Scheduler's REST-JSON API for what producers create at run time (one-time
 * task ETAs), the local cloud's implementation holding the template's schedule groups.
 * Schedules created here are kept, not fired: firing would need the target role's own
 * SQS calls, and the template's own schedules are fired by the rehearsal's checks.
 */
export async function startSchedulerStandIn(template: Template, values: LocalValues, placement: { region: string; account: string }) {
  const api = new SchedulerApi(placement);
  for (const [id] of resourcesOfType(template, 'AWS::Scheduler::ScheduleGroup')) api.ensureGroup(values.ref(id));
  const server = createServer((request, response) => {
    void api.handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    api,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
