import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { tasks, type Priority } from '../../catalogue/index.ts';
import { hasFilter, type TaskOperations } from '../../operations/index.ts';
import { apiRoutes, historyFilter, queueParam, statusOf } from '../api.ts';
import { guardedListener, isAllowedHost, isCrossSite, loopback, pageHeaders, requestUrl } from '../guard.ts';
import { HttpError, redirect, Router, sendHtml, sendJson } from '../http.ts';
import { reasonOf } from '../../errors.ts';
import { html, layout, script, styles } from './html.ts';
import { bulkBar } from './bulk-page.ts';
import { bulkRoutes } from './bulk-routes.ts';
import { back, readActionForm } from './forms.ts';
import { inspectRoutes } from './inspect-routes.ts';
import { deadLettersPage, overviewPage, sendPage, taskPage, taskRows, tasksPage, unknownTaskPage } from './pages.ts';

/** The send form's view of the catalogue: every task with its payload's JSON Schema. */
export function catalogueView() {
  return Object.values(tasks).map((task) => ({
    name: task.name,
    ...(('alias' in task && task.alias) ? { alias: task.alias } : {}),
    queue: task.queue,
    description: task.description,
    schema: z.toJSONSchema(task.payload, { io: 'input' }),
  }));
}

/**
 * Flower's place on port 5555: the HTML dashboard and the JSON API the `taskq` CLI uses,
 * both over the same operations, listening on `host` (the local cloud's `listenHost`; loopback when not given).
 */
export async function startDashboard(operations: TaskOperations, port: number, host = loopback): Promise<{ url: string; server: Server; stop(): Promise<void> }> {
  const router = apiRoutes(new Router(), operations, catalogueView);
  const page = (title: string, render: (url: URL, params: Record<string, string>) => Promise<ReturnType<typeof overviewPage> | string>) =>
    async (_request: unknown, response: Parameters<typeof sendHtml>[0], params: Record<string, string>, url: URL) => {
      const body = await render(url, params);
      if (typeof body === 'string') return sendHtml(response, 200, body);
      sendHtml(response, 200, layout(title, body, { notice: url.searchParams.get('notice'), error: url.searchParams.get('error') }));
    };

  router
    .on('GET', '/assets/taskq.css', async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' });
      response.end(styles);
    })
    .on('GET', '/assets/taskq.js', async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
      response.end(script);
    })
    // Prometheus's scrape target, with celery-exporter's metric names (operations/metrics.ts).
    .on('GET', '/metrics', async (_request, response) => {
      const text = await operations.metrics();
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
      response.end(text);
    })
    .on('GET', '/', page('Overview', async () => {
      const [queues, stats] = await Promise.all([operations.queues(), operations.stats(60)]);
      return overviewPage(queues, stats, operations.schedules(1));
    }))
    .on('GET', '/tasks', page('Tasks', async (url) => {
      const filter = historyFilter(url.searchParams);
      const list = await operations.history(filter);
      if (url.searchParams.get('rows') === '1') return taskRows(list).text;
      // A filtered list offers to act on every task it matches, counted in one scan.
      const bulk = hasFilter(filter) ? bulkBar(filter, await operations.bulkCounts(filter)) : undefined;
      return tasksPage(list, filter, Object.keys(tasks), bulk);
    }))
    .on('GET', '/tasks/:id', async (_request, response, params, url) => {
      const task = await operations.result(params.id!);
      const options = { notice: url.searchParams.get('notice'), error: url.searchParams.get('error') };
      if (!task) return sendHtml(response, 404, layout(`Task ${params.id}`, unknownTaskPage(params.id!), options));
      sendHtml(response, 200, layout(`Task ${task.id}`, taskPage(task), options));
    })
    .on('GET', '/dlq/:queue', page('Dead letters', async (_url, params) => deadLettersPage(params.queue!, await operations.deadLetters(queueParam(params.queue!)))))
    .on('GET', '/send', page('Send a task', async () => sendPage(catalogueView())))
    .on('POST', '/actions/send', async (request, response) => {
      const form = await readActionForm(request);
      const task = form.get('task') ?? '';
      try {
        const countdown = Number(form.get('countdown') || 0);
        const sent = await operations.send(task, JSON.parse(form.get('payload') || '{}'), {
          ...(countdown > 0 ? { countdown } : {}),
          ...(form.get('id') ? { id: form.get('id')! } : {}),
          // A value the form does not offer is refused by the producer, as any caller's would be.
          ...(form.get('priority') ? { priority: form.get('priority') as Priority } : {}),
        });
        redirect(response, back(`/tasks/${encodeURIComponent(sent.id)}`, `Sent ${task} as ${sent.id} to ${sent.lane}`));
      } catch (error) {
        sendHtml(response, 400, layout('Send a task', sendPage(catalogueView(), { task, payload: form.get('payload') ?? '' }), { error: (error as Error).message }));
      }
    })
    .on('POST', '/actions/tasks/:id/revoke', async (request, response, params) => {
      const reason = (await readActionForm(request)).get('reason') || 'revoked';
      const { status } = await operations.revoke(params.id!, reason);
      redirect(response, back(`/tasks/${encodeURIComponent(params.id!)}`, status === 'REVOKED' ? 'Revoked' : `Not revoked: the task is ${status}`));
    })
    .on('POST', '/actions/tasks/:id/retry', async (request, response, params) => {
      await readActionForm(request);
      await operations.retry(params.id!);
      redirect(response, back(`/tasks/${encodeURIComponent(params.id!)}`, 'Sent again'));
    })
    .on('POST', '/actions/dlq/:queue/redrive', async (request, response, params) => {
      const form = await readActionForm(request);
      const taskIds = form.getAll('taskId');
      if (form.get('scope') === 'selected' && taskIds.length === 0) return redirect(response, `/dlq/${params.queue}?error=${encodeURIComponent('Select at least one message')}`);
      const { moved, unmoved } = await operations.redrive(queueParam(params.queue!), form.get('scope') === 'all' ? {} : { taskIds });
      const left = unmoved.length > 0 ? `; ${unmoved.length} could not be moved and stay here (${unmoved[0]!.reason})` : '';
      redirect(response, back(`/dlq/${params.queue}`, `Redrove ${moved} message${moved === 1 ? '' : 's'} to ${params.queue}${left}`));
    })
    .on('POST', '/actions/dlq/:queue/purge', async (request, response, params) => {
      if ((await readActionForm(request)).get('confirm') !== 'yes') return redirect(response, `/dlq/${params.queue}?error=${encodeURIComponent('Tick the box to confirm the purge')}`);
      const { purged } = await operations.purge(queueParam(params.queue!));
      redirect(response, back(`/dlq/${params.queue}`, `Purged ${purged} message${purged === 1 ? '' : 's'}`));
    })
    .on('POST', '/actions/schedules/:name/run', async (request, response, params) => {
      await readActionForm(request);
      const { id } = await operations.runSchedule(params.name!);
      redirect(response, back('/', `Fired ${params.name} as ${id}`));
    });
  inspectRoutes(router, operations, page);
  bulkRoutes(router, operations, page);

  const server = createServer(guardedListener(async (request, response) => {
    for (const [name, value] of Object.entries(pageHeaders)) response.setHeader(name, value);
    // After DNS rebinding a page of another site reaches this port under its own name: answer none of it.
    if (!isAllowedHost(request.headers.host, host)) return sendJson(response, 403, { error: `this dashboard answers only for ${host} and localhost` });
    const url = requestUrl(request);
    if (!url) return sendJson(response, 400, { error: 'the request target must be a path' });
    const method = request.method ?? 'GET';
    const isApi = url.pathname.startsWith('/api/');
    try {
      if (method !== 'GET') {
        if (isCrossSite(request)) throw new HttpError(403, 'a page of another site cannot change anything here');
        // A cross-origin page may post text/plain without asking; application/json needs a preflight this server never grants.
        const type = request.headers['content-type'];
        if (isApi && type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'the API takes application/json');
      }
      const route = router.match(method, url.pathname);
      if (!route) return sendJson(response, 404, { error: `no route ${method} ${url.pathname}` });
      await route.handler(request, response, route.params, url);
    } catch (error) {
      const status = statusOf(error);
      const message = reasonOf(error);
      if (response.headersSent) return void response.end();
      if (isApi || status === 403 || status === 415) return sendJson(response, status, { error: message });
      sendHtml(response, status, layout('Something went wrong', html`<p><a href="/">Back to the overview</a></p>`, { error: message }));
    }
  }, (response, status, message) => sendJson(response, status, { error: message })));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
