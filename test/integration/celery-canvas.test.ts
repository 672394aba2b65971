import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { celeryUnavailable, runCeleryScript } from '../support/celery-python.ts';
import { celeryAnswers, type Read } from '../support/celery-results.ts';
import { databaseKind } from '../support/database.ts';
import { startLocalCloudProcess } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

type Cloud = Awaited<ReturnType<typeof startLocalCloudProcess>>;

interface TaskDetail {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly attempts: number;
  readonly result: unknown;
  readonly error: string | null;
  readonly startedAt: string | null;
  readonly dateDone: string | null;
}

interface Sent {
  readonly steps: [string, string];
  readonly members: string[];
  readonly group: string;
  readonly body: string;
  readonly task: string;
}

/**
 * Canvas that Debian's real Celery 5 publishes, through kombu's SQS transport, to the local
 * cloud: a chain across two queues, a chord of five joined the way Celery's database
 * backend joins one (celery.chord_unlock), and an errback on a task that fails.
 */
describe.skipIf(celeryUnavailable)(`Celery canvas from Python, run by the local cloud (${databaseKind})`, () => {
  let cloud: Cloud;
  let sent: [Pick<Sent, 'steps'>, Pick<Sent, 'members' | 'group' | 'body'>, Pick<Sent, 'task'>];

  const result = (id: string) =>
    new Promise<TaskDetail | undefined>((resolve, reject) => {
      execFile(process.execPath, ['shared/cli/taskq.mjs', '--url', cloud.dashboardUrl, 'result', id, '--json'], { env: { ...process.env, TASKQ_URL: '' } }, (error, stdout) => {
        if (error && !stdout) return reject(error);
        const detail = JSON.parse(stdout) as TaskDetail;
        resolve(detail.name ? detail : undefined);
      });
    });
  const finished = (id: string, what: string) =>
    waitFor(async () => {
      const detail = await result(id);
      return detail && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(detail.status) ? detail : undefined;
    }, 60_000, what);

  beforeAll(async () => {
    // With Celery's result tables on, so Python reads what ran here where it can connect (PostgreSQL).
    cloud = await startLocalCloudProcess({ CELERY_RESULTS: 'on' });
    const queues = Object.fromEntries(['default', 'ai', 'data', 'billing'].map((name) => [name, cloud.queueUrl(name)]));
    const run = runCeleryScript<typeof sent>('canvas.py', {
      broker: { endpoint: cloud.endpoint, queues },
      backend: 'postgresql://celery@127.0.0.1/celery',
      ops: [{ op: 'chain' }, { op: 'chord', size: 5 }, { op: 'link_error' }],
    });
    sent = await run.answer;
  }, 120_000);
  afterAll(async () => {
    await cloud?.cleanUp();
  });

  it('runs a chain across two queues in order', async () => {
    const [first, second] = sent[0].steps;
    const [a, b] = [await finished(first, 'the first step'), await finished(second, 'the second step')];
    expect(a).toMatchObject({ name: 'default.noop', status: 'SUCCESS', result: { echo: 'first' } });
    expect(b).toMatchObject({ name: 'data.cleanup_temp_files', status: 'SUCCESS', attempts: 1 });
    expect(Date.parse(b.startedAt!)).toBeGreaterThanOrEqual(Date.parse(a.dateDone!));
  });

  it('runs a chord of five, then its body once with the results in order', async () => {
    const { members, body } = sent[1];
    const callback = await finished(body, 'the chord body');
    expect(callback).toMatchObject({ name: 'default.noop', status: 'SUCCESS', attempts: 1, result: { echo: members.map((_, i) => ({ echo: i })) } });
    for (const id of members) expect(await result(id)).toMatchObject({ status: 'SUCCESS', attempts: 1 });
    const last = Math.max(...(await Promise.all(members.map(async (id) => Date.parse((await result(id))!.dateDone!)))));
    expect(Date.parse(callback.startedAt!)).toBeGreaterThanOrEqual(last);
  });

  it.skipIf(!process.env.DATABASE_URL)("lets Python read the chord body's result and the failed task's error with AsyncResult", async () => {
    const { body } = sent[1];
    await finished(body, 'the chord body');
    await finished(sent[2].task, 'the failing task');
    const source = { url: process.env.DATABASE_URL, schema: cloud.schema };
    const [chordBody, failed] = await celeryAnswers<Read>({ ...source, database: undefined as never }, [{ op: 'read', id: body }, { op: 'read', id: sent[2].task }]);
    expect(chordBody).toMatchObject({ state: 'SUCCESS', value: { json: { echo: [0, 1, 2, 3, 4].map((echo) => ({ echo })) } } });
    expect(failed).toMatchObject({ state: 'FAILURE', raised: { type: 'PermanentError', message: 'no upload missing' } });
  });

  it('runs the link_error errback once when the task fails', async () => {
    const failed = await finished(sent[2].task, 'the failing task');
    expect(failed).toMatchObject({ name: 'data.process_file_upload', status: 'FAILURE', error: expect.stringContaining('no upload missing') as unknown });
    const errbacks = await waitFor(async () => {
      const found = await errbackRuns();
      return found.some((row) => row.status === 'SUCCESS') ? found : undefined;
    }, 30_000, 'the errback');
    // Copies that might still arrive have had their time: there is one errback, and it ran once.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await errbackRuns()).toEqual(errbacks);
    expect(errbacks).toEqual([expect.objectContaining({ status: 'SUCCESS', attempts: 1 })]);
  });

  /** The noop tasks whose payload names the errback. */
  async function errbackRuns() {
    return new Promise<{ id: string; status: string; attempts: number }[]>((resolve, reject) => {
      execFile(process.execPath, ['shared/cli/taskq.mjs', '--url', cloud.dashboardUrl, 'history', '--task', 'default.noop', '--search', 'errback', '--json'], { env: { ...process.env, TASKQ_URL: '' } }, (error, stdout) => {
        if (error) return reject(error);
        resolve(JSON.parse(stdout) as { id: string; status: string; attempts: number }[]);
      });
    });
  }
});
