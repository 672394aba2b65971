import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printable } from '../../shared/cli/format.ts';
import { startDashboard } from '../../shared/local/dashboard/server.ts';
import { TaskOperations } from '../../shared/operations/index.ts';
import { databaseKind, openTestDatabase } from '../support/database.ts';
import { createTestQueue, startEmulator } from '../support/emulator.ts';

/** The JSON API's edges: what a client that goes away, or names what is not there, leaves behind. */
describe(`the local API at its edges (${databaseKind})`, () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;

  beforeAll(async () => {
    emulator = await startEmulator();
    db = await openTestDatabase();
    const queue = await createTestQueue(emulator.sqs, { visibilityTimeoutSeconds: 30 });
    const operations = new TaskOperations({ sqs: emulator.sqs, database: db.database, queues: { default: { url: queue.url, deadLetterUrl: queue.deadLetterUrl } }, longDelays: null });
    dashboard = await startDashboard(operations, 0);
  });
  afterAll(async () => {
    await dashboard?.stop();
    await db?.close();
    await emulator?.stop();
  });

  it('stops polling the result store when a long-poll client goes away', async () => {
    const statements = () => db.counter.statements;
    const waiting = request(`${dashboard.url}/api/tasks/never-sent?wait=300000`);
    waiting.on('error', () => undefined);
    waiting.end();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const whilePolling = statements();
    waiting.destroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const afterLeaving = statements();
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    // It polled while the client waited (every 200 ms), then at most once more.
    expect(whilePolling).toBeGreaterThanOrEqual(3);
    expect(statements() - afterLeaving).toBe(0);
  });

  it('answers a schedule named like a prototype key with 404 and the schedules there are', async () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const response = await fetch(`${dashboard.url}/api/schedules/${name}/run`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status, name).toBe(404);
      expect(((await response.json()) as { error: string }).error).toMatch(/^no schedule .*; the schedules are cleanup-temp-files/);
    }
  });

  it('keeps terminal escape sequences from task data out of what taskq prints', () => {
    expect(printable('default.\u001b]0;owned\u0007noop\u001b[2J \u009b31m')).toBe('default.\uFFFD]0;owned\uFFFDnoop\uFFFD[2J \uFFFD31m');
    expect(printable('line one\n\tline two')).toBe('line one\n\tline two');
  });
});
