import { execFile } from 'node:child_process';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { databaseKind } from '../support/database.ts';
import { localCloudForSuite } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

type Task = { id: string; status: string; attempts: number; error: string | null };

/** The real `taskq` binary, as the package's bin runs it. */
function taskq(url: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['shared/cli/taskq.mjs', '--url', url, ...args], { env: { ...process.env, TASKQ_URL: '' } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe(`taskq retry, revoke and purge by filter against the local cloud (${databaseKind})`, () => {
  const local = localCloudForSuite();
  const cli = (...args: string[]) => taskq(local.cloud.dashboardUrl, args);
  const json = async <T>(...args: string[]): Promise<T> => {
    const { code, stdout, stderr } = await cli(...args, '--json');
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as T;
  };
  const task = async (id: string) => (await (await fetch(`${local.cloud.dashboardUrl}/api/tasks/${id}`)).json()) as Task;
  /** Cleanings of uploads that do not exist, each failing for good at its first attempt. */
  const failing = async (tenant: string, count: number) => {
    const envelopes = Array.from({ length: count }, (_, i) => newEnvelope('data.process_file_upload', { uploadId: `missing-${tenant}-${i}` }, { tenant }));
    await local.sqs.send(new SendMessageBatchCommand({ QueueUrl: local.cloud.queueUrl('data'), Entries: envelopes.map((e, i) => ({ Id: `m${i}`, MessageBody: JSON.stringify(e), MessageGroupId: tenant })) }));
    for (const { id } of envelopes) await waitFor(async () => (await task(id)).status === 'FAILURE', 20_000, `${id} to fail`);
    return envelopes.map((e) => e.id);
  };

  it('counts, retries once, revokes and purges one tenant\'s failures, leaving another tenant\'s', async () => {
    const mine = await failing('bulk-a', 3);
    const theirs = await failing('bulk-b', 2);

    const dry = await cli('retry', '--tenant', 'bulk-a', '--dry-run');
    expect(dry).toMatchObject({ code: 0, stdout: expect.stringMatching(/^would retry 3 tasks \(nothing done: this was a dry run\)\n/) });
    for (const id of mine) expect(dry.stdout).toContain(id);

    // Paused, the consumer leaves the retried messages queued, so a second run can be seen to send nothing.
    await json('control', 'pause', 'data');
    const retried = await cli('retry', '--tenant', 'bulk-a', '--task', 'app.tasks.data_tasks.process_file_upload');
    expect(retried).toMatchObject({ code: 0, stdout: 'retried 3 of 3 tasks matching\n', stderr: 'retry: 3/3\n' });
    expect(await json('retry', '--tenant', 'bulk-a')).toMatchObject({ action: 'retry', matched: 0, affected: 0 });
    for (const id of mine) expect(await task(id)).toMatchObject({ status: 'PENDING', attempts: 1 });
    expect((await json<{ queue: string; visible: number }[]>('queues')).find((q) => q.queue === 'data')!.visible).toBe(3);

    expect((await cli('revoke', '--tenant', 'bulk-a', '--dry-run')).stdout).toMatch(/^would revoke 3 tasks/);
    expect(await json('revoke', '--tenant', 'bulk-a', '--reason', 'superseded by a fix')).toMatchObject({ matched: 3, affected: 3, skipped: [] });
    await json('control', 'resume', 'data');
    // Picked up, the revoked tasks are acknowledged without running: the queue empties and no attempt is added.
    await waitFor(async () => {
      const data = (await json<{ queue: string; visible: number; inFlight: number }[]>('queues')).find((q) => q.queue === 'data')!;
      return data.visible === 0 && data.inFlight === 0;
    }, 20_000, 'the data queue to empty');
    for (const id of mine) expect(await task(id)).toMatchObject({ status: 'REVOKED', attempts: 1, error: 'superseded by a fix' });
    for (const id of theirs) expect(await task(id)).toMatchObject({ status: 'FAILURE' });

    expect(await cli('purge', '--tenant', 'bulk-a')).toMatchObject({ code: 2, stderr: expect.stringMatching(/count them first with --dry-run, then add --yes/) });
    expect(await json('purge', '--tenant', 'bulk-b', '--status', 'FAILURE', '--dry-run')).toMatchObject({ matched: 2, affected: 0, dryRun: true });
    expect(await json('purge', '--tenant', 'bulk-a', '--yes')).toMatchObject({ matched: 3, affected: 3 });
    expect((await json<Task[]>('history', '--tenant', 'bulk-a'))).toEqual([]);
    expect((await json<Task[]>('history', '--tenant', 'bulk-b')).map((t) => t.id).sort()).toEqual([...theirs].sort());
    expect(await cli('result', mine[0]!)).toMatchObject({ code: 1, stdout: `${mine[0]} PENDING (not picked up yet)\n` });

    // One id at a time, as before.
    expect(await cli('retry', theirs[0]!)).toMatchObject({ code: 0, stdout: `sent ${theirs[0]} again to data\n` });
    await waitFor(async () => (await task(theirs[0]!)).attempts === 2, 20_000, 'the retried task to run again');
  });

  it('stops a retry whose client goes away after its first page, and the same request again sends only the rest', async () => {
    const envelopes = Array.from({ length: 150 }, (_, i) => newEnvelope('data.process_file_upload', { uploadId: `gone-${i}` }, { tenant: 'bulk-big' }));
    for (let start = 0; start < envelopes.length; start += 10) {
      await local.sqs.send(new SendMessageBatchCommand({ QueueUrl: local.cloud.queueUrl('data'), Entries: envelopes.slice(start, start + 10).map((e, i) => ({ Id: `m${i}`, MessageBody: JSON.stringify(e), MessageGroupId: 'bulk-big' })) }));
    }
    const listed = async (status: string) => ((await (await fetch(`${local.cloud.dashboardUrl}/api/tasks?tenant=bulk-big&status=${status}&limit=1000`)).json()) as Task[]).length;
    await waitFor(async () => (await listed('FAILURE')) === 150, 30_000, 'the 150 cleanings to fail');
    await json('control', 'pause', 'data');
    const retry = (signal?: AbortSignal) => fetch(`${local.cloud.dashboardUrl}/api/bulk/retry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'bulk-big' }), ...(signal ? { signal } : {}) });

    const leaving = new AbortController();
    const first = await retry(leaving.signal);
    const reader = first.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^\{"done":100,"total":150\}\n/);
    leaving.abort();
    const again = (await (await retry()).text()).trim().split('\n').map((line) => JSON.parse(line) as { matched?: number; affected?: number });

    // However far the first run got before it noticed, every task went exactly once.
    expect(again.at(-1)!.matched).toBeLessThanOrEqual(50);
    expect(again.at(-1)!.matched).toBe(again.at(-1)!.affected);
    await waitFor(async () => (await listed('PENDING')) === 150, 10_000, 'every task to be marked as sent again');
    expect((await json<{ queue: string; visible: number }[]>('queues')).find((q) => q.queue === 'data')!.visible).toBe(150);
    await json('purge', 'data', '--yes');
    await json('control', 'resume', 'data');
  });

  it.each([
    [['retry', '--status', 'SUCCESS'], /retry takes tasks in FAILURE; --status SUCCESS matches none/],
    [['revoke', 'some-id', '--tenant', 'acme'], /revoke <id> or revoke with filter flags, not both/],
    [['purge', '--since', '2026-11-28', '--until', '2026-11-27', '--dry-run'], /--since \(2026-11-28T00:00:00.000Z\) must be before --until/],
    [['retry', '--since', 'last week'], /--since takes an ISO 8601 time/],
    [['purge', 'default', '--dry-run'], /--dry-run goes with a filter/],
    [['history', '--status', 'done'], /--status takes PENDING/],
  ])('answers %j with a usage message and exit code 2', async (args, message) => {
    const { code, stderr } = await cli(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('refuses a bulk request without a filter, of an unknown action, or with a bad field', async () => {
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${local.cloud.dashboardUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, error: ((await response.json()) as { error: string }).error };
    };
    expect(await post('/api/bulk/purge', {})).toEqual({ status: 400, error: expect.stringMatching(/^a bulk purge needs a filter/) });
    expect(await post('/api/bulk/obliterate', { status: 'FAILURE' })).toMatchObject({ status: 404 });
    expect(await post('/api/bulk/retry', { status: 'FAILURE', dryRun: 'yes' })).toEqual({ status: 400, error: 'dryRun must be true or false' });
    expect(await post('/api/bulk/retry', { until: 5 })).toEqual({ status: 400, error: 'until must be text' });
    expect(await post('/api/bulk/revoke', { status: 'SUCCESS' })).toMatchObject({ status: 400, error: expect.stringMatching(/^revoke takes tasks in PENDING, STARTED, RETRY/) });
  });
});
