import { parseDuration } from '../../catalogue/index.ts';
import { reasonOf } from '../../errors.ts';
import type { TaskOperations } from '../../operations/index.ts';
import { queueParam } from '../api-params.ts';
import { redirect, type Handler, type Router } from '../http.ts';
import { back, failed, readActionForm } from './forms.ts';
import type { Html } from './html.ts';
import { inspectPage } from './inspect-page.ts';

/**
 * The consumers page (`/inspect`): what `taskq inspect` shows, and the forms of `taskq
 * control` and `purge`. A refused change comes back to the page with its reason.
 */
export function inspectRoutes(router: Router, operations: TaskOperations, page: (title: string, render: (url: URL) => Promise<Html>) => Handler): void {
  const action = (change: (form: URLSearchParams, params: Record<string, string>) => Promise<string>): Handler => async (request, response, params) => {
    const form = await readActionForm(request);
    try {
      redirect(response, back('/inspect', await change(form, params)));
    } catch (error) {
      redirect(response, failed('/inspect', reasonOf(error)));
    }
  };
  router
    .on('GET', '/inspect', page('Consumers', async () => {
      const [stats, active, reserved, scheduled, registered] = await Promise.all([
        operations.queueStats(60), operations.active(200), operations.reserved(200), operations.scheduled(200), operations.registered(),
      ]);
      return inspectPage({ stats, active, reserved, scheduled, registered });
    }))
    .on('POST', '/actions/control/tasks/:task/rate-limit', action(async (form, { task }) => {
      const changed = await operations.changePolicy(task!, { kind: 'rate-limit', rate: form.get('rate') ?? '' });
      return `Rate limit of ${changed.name} set to ${changed.rateLimit.effective ?? 'none'}`;
    }))
    .on('POST', '/actions/control/tasks/:task/time-limit', action(async (form, { task }) => {
      const [soft, hard] = [form.get('soft') ?? '', form.get('hard') ?? ''];
      const softSeconds = parseDuration(soft);
      const hardSeconds = parseDuration(hard);
      if (softSeconds === undefined || hardSeconds === undefined) throw new Error(`time limits look like 90, 90s, 1.5m or 500ms; not ${softSeconds === undefined ? soft : hard}`);
      const changed = await operations.changePolicy(task!, { kind: 'time-limit', softSeconds, hardSeconds });
      return `Time limits of ${changed.name} set to ${changed.softTimeLimitSeconds.effective} s and ${changed.timeLimitSeconds.effective} s`;
    }))
    .on('POST', '/actions/control/tasks/:task/concurrency', action(async (form, { task }) => {
      const text = form.get('limit') ?? '';
      if (!/^\d{1,4}$/.test(text)) throw new Error(`a concurrency limit is a whole number from 1 to 1000, and 0 lifts the limit; not ${text}`);
      const changed = await operations.changePolicy(task!, { kind: 'concurrency', limit: Number(text) });
      return `Concurrency of ${changed.name} set to ${changed.concurrency.effective ?? 'any'}`;
    }))
    .on('POST', '/actions/control/tasks/:task/reset', action(async (_form, { task }) => `${(await operations.resetPolicy(task!)).name} runs with the catalogue's policy again`))
    .on('POST', '/actions/control/queues/:queue/:change', action(async (_form, { queue, change }) => {
      if (change !== 'pause' && change !== 'resume') throw new Error(`no queue control ${change}`);
      const source = await operations.setConsumer(queueParam(queue!), change === 'resume');
      return `${change === 'resume' ? 'Resumed' : 'Paused'} ${source.queue} (${source.state})`;
    }))
    .on('POST', '/actions/queues/:queue/purge', action(async (form, { queue }) => {
      if (form.get('confirm') !== 'yes') throw new Error('Tick the box to confirm the purge');
      const { purged } = await operations.purgeQueue(queueParam(queue!));
      return `Purged ${purged} message${purged === 1 ? '' : 's'} from ${queue}`;
    }));
}
