import { mkdir } from 'node:fs/promises';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind } from '../support/database.ts';
import { startLocalCloudProcess } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

/** Screenshots land here, for CI to keep. */
const artifacts = 'test-artifacts';

describe(`the dashboard in headless Chromium (${databaseKind})`, () => {
  let cloud: Awaited<ReturnType<typeof startLocalCloudProcess>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    cloud = await startLocalCloudProcess();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
    await mkdir(artifacts, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await cloud?.cleanUp();
  });

  const statusOf = async (id: string) => ((await (await fetch(`${cloud.dashboardUrl}/api/tasks/${id}`)).json()) as { status?: string }).status;

  it('sends a task from the form, watches it succeed, and opens it', async () => {
    await page.goto(`${cloud.dashboardUrl}/send`);
    await page.getByLabel('Task', { exact: true }).selectOption('default.noop');
    await expect.poll(() => page.locator('details[data-task="default.noop"]').getAttribute('open')).not.toBeNull();
    await page.getByLabel('Payload (JSON)').fill('{"echo": "from the browser"}');
    await page.getByRole('button', { name: 'Send' }).click();

    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^Sent default.noop as /);
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await waitFor(async () => (await statusOf(id)) === 'SUCCESS', 20_000, 'the task to succeed');

    await page.goto(`${cloud.dashboardUrl}/tasks`);
    const row = page.getByRole('row').filter({ hasText: id });
    await expect.poll(() => row.textContent()).toContain('SUCCESS');
    await row.getByRole('link', { name: id }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(`Task ${id}`);
    expect(await page.locator('pre').first().textContent()).toContain('from the browser');
    expect(await page.getByRole('table').last().textContent()).toMatch(/1\s*SUCCESS/);
    await page.screenshot({ path: `${artifacts}/dashboard-task-${databaseKind}.png`, fullPage: true });
  });

  it('updates the task list live as tasks arrive', async () => {
    await page.goto(`${cloud.dashboardUrl}/tasks?task=default.noop`);
    const sent = (await (await fetch(`${cloud.dashboardUrl}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'default.noop', payload: { echo: 'live' } }) })).json()) as { id: string };

    await expect.poll(() => page.locator('#task-rows').textContent(), { timeout: 15_000 }).toContain(sent.id);
  });

  it('revokes a queued task, which then never runs', async () => {
    await page.goto(`${cloud.dashboardUrl}/send`);
    await page.getByLabel('Task', { exact: true }).selectOption('default.noop');
    await page.getByLabel('Countdown (s)').fill('4');
    await page.getByRole('button', { name: 'Send' }).click();
    const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(await page.locator('main').textContent()).toContain('No task');

    await page.getByRole('button', { name: 'Revoke' }).click();

    await expect.poll(() => page.getByRole('status').textContent()).toBe('Revoked');
    const task = await waitFor(async () => {
      const current = (await (await fetch(`${cloud.dashboardUrl}/api/tasks/${id}`)).json()) as { status: string; name: string; attempts: number };
      return current.name ? current : undefined;
    }, 20_000, 'the revoked task to be picked up');
    expect(task).toMatchObject({ status: 'REVOKED', name: 'default.noop', attempts: 0 });
  });

  it('redrives a message from the dead-letter queue and retries a failed task', async () => {
    // A producer's malformed message: the prompt is missing.
    const sent = newEnvelope('ai.process_ai_request', { userId: 7 });
    const sqs = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    await sqs.send(new SendMessageCommand({ QueueUrl: cloud.queueUrl('ai'), MessageBody: JSON.stringify(sent) }));
    sqs.destroy();
    await waitFor(async () => (await statusOf(sent.id)) === 'FAILURE', 20_000, 'the malformed task to fail');

    await page.goto(cloud.dashboardUrl);
    await page.getByRole('link', { name: /dead letters on ai$/ }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('invalid payload for ai.process_ai_request: prompt:');
    await page.screenshot({ path: `${artifacts}/dashboard-dlq-${databaseKind}.png`, fullPage: true });
    const doneAt = async () => ((await (await fetch(`${cloud.dashboardUrl}/api/tasks/${sent.id}`)).json()) as { dateDone: string }).dateDone;
    const failedAt = await doneAt();
    await page.getByLabel(`Select ${sent.id}`).check();
    await page.getByRole('button', { name: 'Redrive selected' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Redrove 1 message to ai');

    // Still malformed, it is rejected again: a later dateDone shows it went through the consumer once more.
    const redriven = await waitFor(async () => {
      const at = await doneAt();
      return at > failedAt ? at : undefined;
    }, 20_000, 'the redriven task to run again');
    await page.goto(`${cloud.dashboardUrl}/tasks/${sent.id}`);
    await page.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Sent again');
    await waitFor(async () => (await doneAt()) > redriven, 20_000, 'the retried task to run');
  });

  it('retries, then purges, every failure a filtered list shows, each after a confirmation that counts them', async () => {
    // Cleanings of uploads that do not exist: each fails for good at its first attempt.
    const sent = [0, 1].map((i) => newEnvelope('data.process_file_upload', { uploadId: `missing-${i}` }, { tenant: 'dash-bulk' }));
    const sqs = new SQSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    for (const envelope of sent) await sqs.send(new SendMessageCommand({ QueueUrl: cloud.queueUrl('data'), MessageBody: JSON.stringify(envelope), MessageGroupId: 'dash-bulk' }));
    sqs.destroy();
    const attemptsOf = async (id: string) => ((await (await fetch(`${cloud.dashboardUrl}/api/tasks/${id}`)).json()) as { status: string; attempts: number });
    for (const { id } of sent) await waitFor(async () => (await statusOf(id)) === 'FAILURE', 20_000, 'the cleanings to fail');

    await page.goto(`${cloud.dashboardUrl}/tasks`);
    await page.getByLabel('Tenant').fill('dash-bulk');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: 'Retry 2 matching' }).click();
    expect(await page.locator('main').textContent()).toContain('2 tasks in FAILURE match tenant dash-bulk.');
    for (const { id } of sent) expect(await page.getByRole('link', { name: id }).count()).toBe(1);
    await page.screenshot({ path: `${artifacts}/dashboard-bulk-${databaseKind}.png`, fullPage: true });
    await page.getByRole('button', { name: 'Retry 2 matching' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Retried 2 of 2 matching tasks');
    for (const { id } of sent) await waitFor(async () => {
      const task = await attemptsOf(id);
      return task.status === 'FAILURE' && task.attempts === 2;
    }, 20_000, 'the retried cleanings to run and fail again');

    await page.reload();
    await page.getByRole('link', { name: 'Purge 2 matching' }).click();
    await page.getByRole('button', { name: 'Purge 2 matching' }).click();
    expect(await page.locator('h1').textContent()).toBe('Act on every matching task');
    await page.getByLabel('Delete the records of these 2 tasks').check();
    await page.getByRole('button', { name: 'Purge 2 matching' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Purged 2 of 2 matching tasks');
    expect(await page.locator('#task-rows').textContent()).toContain('No tasks match.');
    for (const { id } of sent) expect((await fetch(`${cloud.dashboardUrl}/api/tasks/${id}`)).status).toBe(404);
  });

  it('inspects the consumers and changes policies, pauses a queue and purges one from the Consumers page', async () => {
    const later = (await (await fetch(`${cloud.dashboardUrl}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'default.noop', payload: {}, countdown: 300 }) })).json()) as { id: string };
    await page.goto(cloud.dashboardUrl);
    await page.getByRole('link', { name: 'Consumers' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Consumers');
    for (const heading of ['Queues and consumers', 'Running now', 'Received, not started', 'Scheduled', 'Registered tasks']) {
      expect(await page.getByRole('heading', { name: heading }).count()).toBe(1);
    }
    expect(await page.getByRole('row').filter({ hasText: later.id }).textContent()).toMatch(/countdown/);

    await page.getByLabel('Rate limit of default.noop').fill('2/m');
    await page.getByRole('button', { name: 'Apply the rate limit to default.noop' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Rate limit of default.noop set to 2/m');
    expect(await page.locator('tr[data-task="default.noop"] td.rate-limit').textContent()).toBe('2/m (changed)');
    const registered = (await (await fetch(`${cloud.dashboardUrl}/api/inspect/registered`)).json()) as { name: string; rateLimit: { override: string | null } }[];
    expect(registered.find((task) => task.name === 'default.noop')!.rateLimit.override).toBe('2/m');
    await page.getByLabel('Soft limit of default.noop').fill('2m');
    await page.getByLabel('Hard limit of default.noop').fill('1m');
    await page.getByRole('button', { name: 'Apply the time limits to default.noop' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('cannot change default.noop: the soft limit (120 s) must be below the hard limit (60 s)');
    await page.getByRole('button', { name: 'Reset default.noop' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe("default.noop runs with the catalogue's policy again");

    await page.getByRole('button', { name: 'Pause billing' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Paused billing (Disabled)');
    expect(await page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'billing', exact: true }) }).locator('td.consumer-state').textContent()).toBe('Disabled');
    await page.screenshot({ path: `${artifacts}/dashboard-consumers-${databaseKind}.png`, fullPage: true });
    await page.getByRole('button', { name: 'Resume billing' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Resumed billing (Enabled)');

    await page.getByLabel('Delete every message waiting on default').check();
    await page.getByRole('button', { name: 'Purge default' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^Purged [1-9]\d* messages? from default$/);
    const depths = (await (await fetch(`${cloud.dashboardUrl}/api/queues`)).json()) as { queue: string; visible: number; delayed: number }[];
    expect(depths.find((q) => q.queue === 'default')).toMatchObject({ visible: 0, delayed: 0 });
  });

  it('shows queues, per-minute charts, latency percentiles and schedules on the overview', async () => {
    await page.goto(cloud.dashboardUrl);
    const main = await page.locator('main').textContent();
    for (const text of ['Queues', 'Succeeded per minute', 'Failed per minute', 'Wait (sent → started)', 'cleanup-temp-files', 'rate(5 minutes)']) expect(main).toContain(text);
    expect(await page.locator('svg rect').count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Run cleanup-task-results now' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^Fired cleanup-task-results as cleanup-task-results:/);
    await page.screenshot({ path: `${artifacts}/dashboard-overview-${databaseKind}.png`, fullPage: true });
  });
});
