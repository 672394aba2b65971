import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from '../support/database.ts';
import { startLocalCloudProcess } from '../support/local-cloud.ts';
import { startOpenAiFixture } from '../support/openai-fixture.ts';
import { waitFor } from '../support/wait.ts';

type Cloud = Awaited<ReturnType<typeof startLocalCloudProcess>>;
type Task = { id: string; status: string; startedAt: string | null; attempts: number; error: string | null; attemptHistory: { runtimeMs: number | null }[] };

/** The real `taskq` binary, as the package's bin runs it. */
function taskq(url: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['shared/cli/taskq.mjs', '--url', url, ...args], { env: { ...process.env, TASKQ_URL: '' } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Consumers read run-time policy changes at most every 5 s: past this, every one applies a change. */
const policyPickUpMs = 5_500;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe(`taskq inspect and control against the local cloud (${databaseKind})`, () => {
  let cloud: Cloud;
  let openai: Awaited<ReturnType<typeof startOpenAiFixture>>;
  const cli = (...args: string[]) => taskq(cloud.dashboardUrl, args);
  const json = async <T>(...args: string[]): Promise<T> => {
    const { code, stdout, stderr } = await cli(...args, '--json');
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as T;
  };
  const api = async <T>(path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${cloud.dashboardUrl}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as T };
  };
  const send = async (task: string, payload: unknown, extra: Record<string, unknown> = {}) => (await api<{ id: string }>('/api/tasks', { task, payload, ...extra })).body.id;
  const done = (id: string) => waitFor(async () => {
    const { status, body } = await api<Task>(`/api/tasks/${id}?wait=5000`);
    return status === 200 && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(body.status) ? body : undefined;
  }, 60_000, `${id} to finish`);
  const spread = (tasks: readonly Task[]) => {
    const starts = tasks.map((task) => Date.parse(task.startedAt!)).sort((a, b) => a - b);
    return starts.at(-1)! - starts[0]!;
  };
  const depth = async (queue: string) => (await json<{ queue: string; visible: number; delayed: number }[]>('queues')).find((q) => q.queue === queue)!;

  beforeAll(async () => {
    openai = await startOpenAiFixture();
    cloud = await startLocalCloudProcess({ OPENAI_API_KEY: 'sk-test-local', OPENAI_BASE_URL: openai.baseUrl });
  });
  afterAll(async () => {
    await cloud?.cleanUp();
    await openai?.stop();
  });

  it('changes a rate limit at run time: 1/s spaces five tasks, which wait as reserved, and reset lifts it, without a restart', async () => {
    const registered = await json<{ name: string; alias: string | null; rateLimit: unknown; softTimeLimitSeconds: unknown; changedAt: string | null }[]>('inspect', 'registered');
    expect(registered.find((t) => t.name === 'default.noop')).toMatchObject({ rateLimit: { catalogue: null, override: null, effective: null }, softTimeLimitSeconds: { catalogue: 240, override: null, effective: 240 }, changedAt: null });
    expect(registered.find((t) => t.name === 'billing.process_refund')).toMatchObject({ alias: 'app.tasks.billing_tasks.process_refund', rateLimit: { catalogue: '50/s', effective: '50/s' }, priority: 'high' });
    expect(registered.find((t) => t.name === 'default.noop')).toMatchObject({ priority: 'normal' });

    const changed = await json<{ rateLimit: unknown; changedAt: string }>('control', 'rate-limit', 'default.noop', '1/s');
    expect(changed).toMatchObject({ rateLimit: { catalogue: null, override: '1/s', effective: '1/s' }, changedAt: expect.any(String) });
    expect((await cli('inspect', 'registered')).stdout).toMatch(/^default\.noop\s+default\s+1\/s\*/m);
    await pause(policyPickUpMs);

    const ids = await Promise.all(Array.from({ length: 5 }, (_, n) => send('default.noop', { echo: n })));
    // Throttled messages are received and hidden, not started: reserved.
    const reserved = await waitFor(async () => {
      const view = await json<{ tasks: { id: string; queue: string }[]; listed: boolean; queues: { queue: string; reserved: number }[] }>('inspect', 'reserved');
      return view.tasks.some((task) => ids.includes(task.id)) ? view : undefined;
    }, 20_000, 'a throttled task to show as reserved');
    expect(reserved).toMatchObject({ listed: true });
    expect(reserved.queues.find((q) => q.queue === 'default')!.reserved).toBeGreaterThanOrEqual(1);
    const limited = await Promise.all(ids.map(done));
    expect(limited.map((task) => [task.status, task.attempts])).toEqual(Array(5).fill(['SUCCESS', 1]));
    // One start a second with a burst of one: five starts take four seconds at least.
    expect(spread(limited)).toBeGreaterThanOrEqual(3_500);

    expect(await json('control', 'reset', 'default.noop')).toMatchObject({ name: 'default.noop', reset: true, rateLimit: { override: null, effective: null } });
    expect((await cli('control', 'reset', 'default.noop')).stdout).toBe('default.noop had no run-time changes\n');
    await pause(policyPickUpMs);
    const free = await Promise.all((await Promise.all(Array.from({ length: 5 }, (_, n) => send('default.noop', { echo: 10 + n })))).map(done));
    expect(spread(free)).toBeLessThan(1_500);
    // The same local cloud process throughout: no restart, no deploy.
    expect(() => process.kill(cloud.pid, 0)).not.toThrow();
  });

  it("shows a running task with its invocation and lease, its queue's concurrency in stats, and a time limit set at run time ends the next", async () => {
    openai.state.delayMs = 8_000;
    const slow = await send('ai.process_ai_request', { userId: 1, prompt: 'take your time' });
    const active = await waitFor(async () => (await json<{ id: string; task: string; consumer: string; startedAt: string; leaseExpiresAt: string; leaseExpired: boolean; attempt: number }[]>('inspect', 'active')).find((t) => t.id === slow), 20_000, 'the slow task to run');
    expect(active).toMatchObject({ task: 'ai.process_ai_request', attempt: 1, leaseExpired: false, consumer: expect.stringMatching(/^local-consumer-ai:[0-9a-f-]{36}$/) });
    expect(Date.parse(active.leaseExpiresAt) - Date.parse(active.startedAt)).toBe(300_000);
    expect((await cli('inspect', 'active')).stdout).toMatch(new RegExp(`^${slow}\\s+ai\\.process_ai_request\\s+ai\\s+\\S+\\s+1\\s+local-consumer-ai:`, 'm'));
    const stats = await json<{ queue: string; consumer: string; concurrency: { inUse: number; maximum: number }; deadLetters: number }[]>('inspect', 'stats', '--minutes', '10');
    expect(stats.map((s) => s.queue)).toEqual(['default', 'ai', 'data', 'billing']);
    // The maximum is both lanes' event sources: the queue's 2 and its high-priority lane's 4.
    expect(stats.find((s) => s.queue === 'ai')).toMatchObject({ consumer: 'Enabled', concurrency: { inUse: 1, maximum: 6 }, deadLetters: 0 });
    expect(stats.find((s) => s.queue === 'default')).toMatchObject({ succeeded: 10, failed: 0, waitMs: { p50: expect.any(Number) }, runMs: { p99: expect.any(Number) } });

    const limited = await json<{ softTimeLimitSeconds: unknown; timeLimitSeconds: unknown }>('control', 'time-limit', 'app.tasks.ai_tasks.process_ai_request', '1s', '2s');
    expect(limited).toMatchObject({ softTimeLimitSeconds: { catalogue: 240, override: 1, effective: 1 }, timeLimitSeconds: { catalogue: 300, override: 2, effective: 2 } });
    expect(await done(slow)).toMatchObject({ status: 'SUCCESS' });
    await pause(policyPickUpMs);
    const cut = await send('ai.process_ai_request', { userId: 1, prompt: 'too slow now' });
    const retried = await waitFor(async () => {
      const { body } = await api<Task>(`/api/tasks/${cut}`);
      return body.attemptHistory?.[0]?.runtimeMs != null && body.error ? body : undefined;
    }, 30_000, 'the first attempt to end at its soft limit');
    expect(retried.attemptHistory[0]!.runtimeMs).toBeLessThan(1_900);
    expect(retried.error).toMatch(/SoftTimeLimitExceeded: soft time limit of 1 s exceeded/);

    await cli('revoke', cut);
    expect(await json('control', 'reset', 'ai.process_ai_request')).toMatchObject({ reset: true, timeLimitSeconds: { effective: 300 } });
    openai.state.delayMs = 0;
  });

  it('pauses a queue: its messages stay queued, and run once it is resumed', async () => {
    expect(await json('control', 'pause', 'default')).toEqual({ queue: 'default', state: 'Disabled', maximumConcurrency: 4, highPriority: { state: 'Disabled', maximumConcurrency: 8 } });
    const ids = await Promise.all(Array.from({ length: 3 }, () => send('default.noop', {})));
    // A long poll that was waiting when the pause came hands back what it catches at once.
    await waitFor(async () => (await depth('default')).visible === 3, 30_000, 'the three to wait, visible, on the paused queue');
    await pause(2_000);
    expect((await depth('default')).visible).toBe(3);
    for (const id of ids) expect((await api(`/api/tasks/${id}`)).status).toBe(404);
    expect((await json<{ queue: string; consumer: string }[]>('inspect', 'stats')).find((s) => s.queue === 'default')!.consumer).toBe('Disabled');

    expect((await cli('control', 'resume', 'default')).stdout).toBe('resumed default: its consumer receives again (Enabled)\n');
    for (const task of await Promise.all(ids.map(done))) expect(task.status).toBe('SUCCESS');
  });

  it('lists countdowns and long ETAs as scheduled, and purges a queue only with --yes', async () => {
    await json('control', 'pause', 'default');
    const soon = await send('default.noop', {}, { countdown: 120 });
    const later = await send('default.noop', {}, { countdown: 7_200 });
    const scheduled = await json<{ tasks: { kind: string; id: string; queue: string; eta: string }[]; listed: boolean; delayed: { queue: string; messages: number }[] }>('inspect', 'scheduled');
    expect(scheduled.listed).toBe(true);
    expect(scheduled.delayed).toContainEqual({ queue: 'default', messages: 1 });
    const entry = (id: string) => scheduled.tasks.find((task) => task.id === id)!;
    expect(entry(soon)).toMatchObject({ kind: 'countdown', queue: 'default' });
    expect(entry(later)).toMatchObject({ kind: 'schedule', queue: 'default' });
    expect(Math.abs(Date.parse(entry(soon).eta) - Date.now() - 120_000)).toBeLessThan(15_000);
    expect(Math.abs(Date.parse(entry(later).eta) - Date.now() - 7_200_000)).toBeLessThan(15_000);
    expect((await cli('inspect', 'scheduled')).stdout).toMatch(new RegExp(`countdown\\s+${soon}\\s+default\\.noop\\s+default`));

    await Promise.all([send('default.noop', {}), send('default.noop', {})]);
    const refused = await cli('purge', 'default');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^taskq: purge deletes every message waiting on default, delayed and in flight ones included: add --yes to confirm/);
    await waitFor(async () => (await depth('default')).visible === 2, 30_000, 'the two to wait on the paused queue');
    expect(await json('purge', 'default', '--yes')).toEqual({ purged: 3 });
    expect(await depth('default')).toMatchObject({ visible: 0, delayed: 0 });
    // As SQS: one purge per queue a minute.
    expect(await cli('purge', 'default', '--yes')).toMatchObject({ code: 1, stderr: 'taskq: Only one PurgeQueue operation on local-default is allowed every 60 seconds.\n' });
    // A long ETA is a schedule, not yet a message: the purge leaves it, and revoking the task deletes it.
    expect((await json<{ tasks: { id: string }[] }>('inspect', 'scheduled')).tasks.map((task) => task.id)).toEqual([later]);
    await cli('revoke', later);
    expect((await json<{ tasks: unknown[] }>('inspect', 'scheduled')).tasks).toEqual([]);
    await json('control', 'resume', 'default');
  });

  it.each([
    [['inspect'], /inspect takes active, scheduled, reserved, registered or stats/],
    [['inspect', 'workers'], /inspect takes active, scheduled, reserved, registered or stats/],
    [['inspect', 'active', 'now'], /inspect active takes no arguments/],
    [['inspect', 'registered', '--limit', '5'], /inspect registered does not take --limit/],
    [['inspect', 'stats', '--minutes', '0'], /--minutes takes a whole number from 1 to 10080/],
    [['control'], /control takes rate-limit, time-limit, concurrency, reset, pause or resume/],
    [['control', 'concurrency', 'data.export_data'], /expected control concurrency <task> <limit>/],
    [['control', 'concurrency', 'data.export_data', 'two'], /a concurrency limit is a whole number from 1 to 1000, and 0 lifts the limit; not two/],
    [['control', 'concurrency', 'data.export_data', '5000'], /a concurrency limit is a whole number from 1 to 1000, and 0 lifts the limit; not 5000/],
    [['control', 'rate-limit', 'default.noop'], /expected control rate-limit <task> <rate>/],
    [['control', 'rate-limit', 'no.such_task', '1/s'], /unknown task 'no.such_task'/],
    [['control', 'rate-limit', 'default.noop', 'fast'], /a rate looks like 10\/s, 60\/m, 100\/h or 5 \(per second\)/],
    [['control', 'time-limit', 'default.noop', '10', '5'], /the soft limit \(10 s\) must be below the hard limit \(5 s\)/],
    [['control', 'time-limit', 'default.noop', '1m', '10m'], /the hard limit \(600 s\) exceeds the default consumer's timeout of 300 s/],
    [['control', 'time-limit', 'default.noop', 'soon', '1m'], /time limits look like 90, 90s, 1.5m or 500ms; not soon/],
    [['control', 'reset'], /expected control reset <task>/],
    [['control', 'pause', 'nowhere'], /unknown queue nowhere/],
    [['purge'], /expected purge <queue> --yes/],
  ])('answers %j with a usage message and exit code 2', async (args, message) => {
    const { code, stderr } = await cli(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage: taskq');
  });

  it("changes a task's concurrency limit at run time, shown by registered on the catalogue's key, until reset", async () => {
    type Registered = { name: string; tenant: string | null; concurrency: { key: string | null; catalogue: number | null; override: number | null; effective: number | null } };
    const exportTask = async () => (await json<Registered[]>('inspect', 'registered')).find((task) => task.name === 'data.export_data')!;
    expect(await exportTask()).toMatchObject({ tenant: 'userId', concurrency: { key: 'userId', catalogue: 1, override: null, effective: 1 } });
    expect(await cli('control', 'concurrency', 'data.export_data', '3')).toMatchObject({
      code: 0, stdout: "concurrency of data.export_data is now 3 per userId (the catalogue's: 1); every consumer applies it within 5 s, without a deploy\n",
    });
    expect((await exportTask()).concurrency).toEqual({ key: 'userId', catalogue: 1, override: 3, effective: 3 });
    expect((await cli('inspect', 'registered')).stdout).toMatch(/^data\.export_data .* 3\/userId\* .* userId /m);
    expect((await cli('control', 'concurrency', 'data.export_data', '0')).stdout).toMatch(/^concurrency of data.export_data is now unlimited \(the catalogue's: 1\)/);
    expect((await exportTask()).concurrency).toMatchObject({ override: 0, effective: null });
    expect(await cli('control', 'reset', 'data.export_data')).toMatchObject({ code: 0 });
    expect((await exportTask()).concurrency).toMatchObject({ override: null, effective: 1 });
  });

  it('refuses what the CLI would have refused when the API is called directly', async () => {
    expect((await api('/api/control/tasks/data.export_data/concurrency', { limit: 5000 })).status).toBe(400);
    expect((await api('/api/control/tasks/data.export_data/concurrency', { limit: 'two' })).status).toBe(400);
    expect(await api('/api/control/tasks/default.noop/time-limit', { soft: 10, hard: 5 })).toEqual({ status: 400, body: { error: 'cannot change default.noop: the soft limit (10 s) must be below the hard limit (5 s)' } });
    expect((await api('/api/control/tasks/default.noop/rate-limit', { rate: 'lots' })).status).toBe(400);
    expect((await api('/api/control/queues/nowhere/pause', {})).status).toBe(404);
    expect((await api('/api/inspect/workers')).status).toBe(404);
  });
});
