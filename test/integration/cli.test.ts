import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { databaseKind } from '../support/database.ts';
import { localCloudForSuite } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

/** The real `taskq` binary, as the package's bin runs it. */
function taskq(args: string[], url?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['shared/cli/taskq.mjs', ...(url ? ['--url', url] : []), ...args], { env: { ...process.env, TASKQ_URL: '' } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe(`taskq against the local cloud (${databaseKind})`, () => {
  const local = localCloudForSuite();
  const cli = (...args: string[]) => taskq(args, local.cloud.dashboardUrl);
  const json = async <T>(...args: string[]): Promise<T> => {
    const { code, stdout, stderr } = await cli(...args, '--json');
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as T;
  };

  it('sends a task and waits for its result', async () => {
    const { code, stdout } = await cli('send', 'default.noop', '--payload', '{"echo":{"n":1}}', '--wait');

    expect(code).toBe(0);
    const [id, status] = stdout.split('\n');
    expect(status).toBe(`${id} SUCCESS after 1 attempt`);
    expect(stdout).toContain('"n": 1');
    const result = await json<{ id: string; status: string; result: unknown; attemptHistory: unknown[] }>('result', id!);
    expect(result).toMatchObject({ id, status: 'SUCCESS', result: { echo: { n: 1 } }, attemptHistory: [expect.objectContaining({ attempt: 1, status: 'SUCCESS' })] });
  });

  it('sends a payload from a file, one over 256 KiB by reference through the files bucket, and waits for its result', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'taskq-payload-')), 'payload.json');
    const echo = 'z'.repeat(300 * 1024);
    await writeFile(file, JSON.stringify({ echo }));
    const { code, stdout, stderr } = await cli('send', 'default.noop', '--payload', `@${file}`, '--wait', '--json');
    expect(code, stderr).toBe(0);
    expect((JSON.parse(stdout) as { result: { echo: string } }).result.echo === echo).toBe(true);
    const missing = await cli('send', 'default.noop', '--payload', '@/nowhere/payload.json');
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/^taskq: --payload @\/nowhere\/payload.json: no such file/) });
  });

  it('accepts the Celery name and a caller-chosen id', async () => {
    const sent = await json<{ id: string; queue: string }>('send', 'app.tasks.maintenance_tasks.cleanup_task_results', '--payload', '{"olderThanDays": 90}', '--id', 'cleanup-from-cli');
    expect(sent).toMatchObject({ id: 'cleanup-from-cli', queue: 'default' });
    const result = await json<{ status: string; result: unknown }>('result', 'cleanup-from-cli', '--wait', '--timeout', '20');
    expect(result).toMatchObject({ status: 'SUCCESS', result: { deleted: 0 } });
  });

  it('revokes a task before it is picked up, so it never runs', async () => {
    // Long enough that a busy machine's two CLI start-ups cannot outlast it.
    const { stdout } = await cli('send', 'default.noop', '--payload', '{}', '--countdown', '12');
    const id = stdout.trim();

    const revoked = await cli('revoke', id, '--reason', 'changed my mind');
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
    const task = await waitFor(async () => {
      const current = await json<{ status: string; name: string; attempts: number; error: string }>('result', id);
      return current.name ? current : undefined;
    }, 40_000, 'the revoked task to be picked up');
    expect(task).toMatchObject({ status: 'REVOKED', name: 'default.noop', attempts: 0, error: 'changed my mind' });
  });

  it('lists, redrives and purges dead letters, with their failure reason', async () => {
    const poison = newEnvelope('ai.process_ai_request', { userId: 1 });
    await local.sqs.send(new SendMessageCommand({ QueueUrl: local.cloud.queueUrl('ai'), MessageBody: JSON.stringify(poison) }));
    const letters = await waitFor(async () => {
      const list = await json<{ taskId: string; reason: string; task: string }[]>('dlq', 'list', 'ai');
      return list.length > 0 ? list : undefined;
    }, 20_000, 'the dead letter');
    expect(letters).toEqual([expect.objectContaining({ taskId: poison.id, task: 'ai.process_ai_request', reason: expect.stringMatching(/^invalid payload for ai.process_ai_request: prompt: /) })]);
    expect((await cli('dlq', 'list', 'ai')).stdout).toContain('invalid payload for ai.process_ai_request');

    const redriven = await cli('dlq', 'redrive', 'ai', '--ids', poison.id);
    expect(redriven).toMatchObject({ code: 0, stdout: "moved 1 message from ai's dead-letter queue back to ai\n" });
    // Still invalid, so it fails again: the redrive ran it once more under the same id.
    const again = await waitFor(async () => {
      const task = await json<{ status: string; attemptHistory: unknown[] }>('result', poison.id);
      const list = await json<unknown[]>('dlq', 'list', 'ai');
      return list.length === 1 && task.status === 'FAILURE' ? list : undefined;
    }, 20_000, 'the redriven message to fail again');
    expect(again).toHaveLength(1);

    expect(await cli('dlq', 'purge', 'ai', '--yes')).toMatchObject({ code: 0, stdout: "purged 1 message from ai's dead-letter queue\n" });
    expect(await json<unknown[]>('dlq', 'list', 'ai')).toEqual([]);
  });

  it('shows queue depths, history with filters, and schedules with their next runs', async () => {
    const queues = await json<{ queue: string; lane: string; priority: string; visible: number; deadLetters: number }[]>('queues');
    expect(queues.map((q) => q.lane)).toEqual(['default', 'default-high', 'ai', 'ai-high', 'data', 'data-high', 'billing', 'billing-high']);
    expect(queues.filter((q) => q.priority === 'high').map((q) => q.queue)).toEqual(['default', 'ai', 'data', 'billing']);
    expect((await cli('queues')).stdout).toMatch(/^QUEUE\s+LANE\s+WAITING\s+IN FLIGHT\s+DELAYED\s+DLQ\s+OLDEST\ndefault\s+normal\s.*\ndefault\s+high\s/);

    const { stdout } = await cli('send', 'default.noop', '--payload', '{"echo":"needle-42"}', '--wait');
    const id = stdout.split('\n')[0]!;
    expect((await json<{ id: string }[]>('history', '--search', 'needle-42')).map((t) => t.id)).toEqual([id]);
    expect((await json<{ id: string }[]>('history', '--search', id)).map((t) => t.id)).toEqual([id]);
    const succeeded = await json<{ status: string; name: string }[]>('history', '--status', 'SUCCESS', '--task', 'default.noop', '--since', '2020-01-01T00:00:00Z', '--limit', '100');
    expect(succeeded.length).toBeGreaterThanOrEqual(2);
    expect(succeeded.every((t) => t.status === 'SUCCESS' && t.name === 'default.noop')).toBe(true);

    const schedules = await json<{ name: string; nextRuns: string[] }[]>('schedules');
    expect(schedules.map((s) => s.name)).toEqual(['cleanup-temp-files', 'process-webhooks', 'cleanup-task-results']);
    for (const schedule of schedules) expect(Date.parse(schedule.nextRuns[0]!)).toBeGreaterThan(Date.now());
    const fired = await cli('schedules', 'run', 'cleanup-task-results');
    const firedId = /as (\S+)$/.exec(fired.stdout.trim())![1]!;
    expect(firedId).toMatch(/^cleanup-task-results:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(await json('result', firedId, '--wait', '--timeout', '20')).toMatchObject({ status: 'SUCCESS', result: { deleted: 0 } });
  });

  it.each([
    [['send'], /expected send <task>/],
    [['send', 'default.noop', '--payload', '{oops'], /--payload must be JSON/],
    [['send', 'default.noop', '--countdown', 'soon'], /--countdown takes a number/],
    [['queues', '--limit', '3'], /queues does not take --limit/],
    [['dlq', 'purge', 'ai'], /add --yes to confirm/],
    [['dlq', 'list', 'nowhere'], /unknown queue nowhere/],
    [['history', '--status', 'DONE'], /--status takes PENDING/],
    [['frobnicate'], /unknown command frobnicate/],
    [['queues', '--bogus'], /Unknown option '--bogus'/],
  ])('answers %j with a usage message and exit code 2', async (args, message) => {
    const { code, stderr } = await cli(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage: taskq');
  });

  it('refuses an invalid payload with the reason, exit code 1', async () => {
    const { code, stderr } = await cli('send', 'billing.process_refund', '--payload', '{"paymentIntentId": "pi_1", "reason": "bored"}');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^taskq: invalid payload for billing.process_refund/);
  });

  it('says in one line when the local cloud cannot be reached', async () => {
    const { code, stderr } = await taskq(['queues'], 'http://127.0.0.1:59999');
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^taskq: cannot reach the local cloud at http:\/\/127.0.0.1:59999 \(ECONNREFUSED\)/)]);
  });
});
