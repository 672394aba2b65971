import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueName } from '../../shared/catalogue/index.ts';
import { longDelaysFromConfig, queueArnOf, scheduleNameOf } from '../../shared/producer/long-delay.ts';
import { TaskProducer } from '../../shared/producer/producer.ts';
import { openDatabase, type Database } from '../../shared/results/database.ts';
import { databaseKind, openTestDatabase, taskRow } from '../support/database.ts';
import { startLocalCloudProcess } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

type Cloud = Awaited<ReturnType<typeof startLocalCloudProcess>>;

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const groupName = 'local-task-etas';
const roleArn = 'arn:aws:iam::000000000000:role/local-task-eta-scheduler';
const twentyMinutes = 20 * 60;
/** 240×: a 20-minute ETA comes in 5 s. */
const compressed = '240';

/** The SDK clients and a producer with long delays, all pointed at one local cloud. */
function connect(cloud: Cloud) {
  const sqs = new SQSClient({ endpoint: cloud.endpoint, region, credentials });
  const scheduler = new SchedulerClient({ endpoint: cloud.endpoint, region, credentials });
  const producer = (queueUrls: Partial<Record<QueueName, string>>, database?: Database) =>
    new TaskProducer({
      sqs,
      queueUrls,
      longDelays: longDelaysFromConfig({ region, queueUrls, ownCredentials: false, longDelays: { groupName, roleArn, deadLetterArn: undefined, endpoint: cloud.endpoint } })!,
      ...(database ? { database } : {}),
    });
  const getSchedule = (taskId: string) => scheduler.send(new GetScheduleCommand({ Name: scheduleNameOf(taskId), GroupName: groupName }));
  const gone = (taskId: string, timeoutMs: number) =>
    waitFor(() => getSchedule(taskId).then(() => false, (error: unknown) => error instanceof ResourceNotFoundException), timeoutMs, `the schedule of ${taskId} to go`);
  const counts = async (QueueUrl: string) => {
    const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    const count = (name: keyof typeof Attributes) => Number(Attributes[name] ?? 0);
    return { visible: count('ApproximateNumberOfMessages'), notVisible: count('ApproximateNumberOfMessagesNotVisible'), delayed: count('ApproximateNumberOfMessagesDelayed') };
  };
  /** A queue no consumer polls, to look at exactly what arrives. */
  const freshQueue = async (name = `eta-${randomUUID().slice(0, 8)}`) => (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  const receive = async (QueueUrl: string) =>
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }))).Messages ?? [];
  const taskApi = async (id: string) => {
    const response = await fetch(`${cloud.dashboardUrl}/api/tasks/${id}`);
    return response.ok ? ((await response.json()) as { status: string }) : undefined;
  };
  return { sqs, scheduler, producer, getSchedule, gone, counts, freshQueue, receive, taskApi, close: () => (sqs.destroy(), scheduler.destroy()) };
}

/** A one-time schedule by hand, as the producer makes them. */
const byHand = (overrides: Partial<CreateScheduleCommandInput> & { Name: string }, targetArn: string, input = '{}'): CreateScheduleCommandInput => ({
  ScheduleExpression: `at(${new Date(Date.now() + 3_600_000).toISOString().slice(0, 19)})`,
  ScheduleExpressionTimezone: 'UTC',
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'DELETE',
  Target: { Arn: targetArn, RoleArn: roleArn, Input: input },
  ...overrides,
});

describe(`ETAs beyond 15 minutes become one-time schedules on the local cloud's Scheduler (${databaseKind})`, () => {
  let cloud: Cloud;
  let c: ReturnType<typeof connect>;
  /** A cloud whose data folder and schema a restarted one took over: cleaned up after it. */
  let restartedFrom: Cloud | undefined;

  beforeAll(async () => {
    cloud = await startLocalCloudProcess();
    c = connect(cloud);
  });
  afterAll(async () => {
    c?.close();
    await cloud?.cleanUp();
    await restartedFrom?.cleanUp();
  });

  it('a 20-minute countdown creates one schedule at the ETA to the second, sending the envelope to the task queue; twice, still one', async () => {
    expect(cloud.ready).toContain('EventBridge Scheduler on the same endpoint');
    expect(cloud.ready).toContain(`ETAs beyond 15 min as one-time schedules in ${groupName}`);
    const queueUrl = cloud.queueUrl('default');
    const producer = c.producer({ default: queueUrl });
    const before = Date.now();
    const message = await producer.sendMessage('default.noop', { echo: 'later' }, { countdown: twentyMinutes });
    const { id, eta } = message.envelope;
    expect(Date.parse(eta!) - before).toBeGreaterThanOrEqual(twentyMinutes * 1000);
    expect(Date.parse(eta!) - Date.now()).toBeLessThanOrEqual(twentyMinutes * 1000);

    const schedule = await c.getSchedule(id);
    expect(schedule).toMatchObject({
      Name: scheduleNameOf(id),
      GroupName: groupName,
      Arn: `arn:aws:scheduler:${region}:000000000000:schedule/${groupName}/${scheduleNameOf(id)}`,
      ScheduleExpression: `at(${atSecond(eta!)})`,
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { RoleArn: roleArn, Input: message.body, RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } },
    });
    const { Attributes } = await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    expect(schedule.Target!.Arn).toBe(Attributes!.QueueArn);
    expect(schedule.Target!.Arn).toBe(queueArnOf(queueUrl, region));
    expect(JSON.parse(schedule.Target!.Input!)).toMatchObject({ v: 1, id, task: 'default.noop', payload: { echo: 'later' }, eta });
    expect(schedule.CreationDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    await producer.sendMessage('default.noop', { echo: 'later' }, { id, countdown: twentyMinutes });
    const listed = await c.scheduler.send(new ListSchedulesCommand({ GroupName: groupName, NamePrefix: scheduleNameOf(id) }));
    expect(listed.Schedules!.map((s) => [s.Name, s.GroupName, s.Target!.Arn])).toEqual([[scheduleNameOf(id), groupName, Attributes!.QueueArn]]);
    expect((await c.scheduler.send(new ListSchedulesCommand({ GroupName: 'default' }))).Schedules).toEqual([]);
    // Nothing went to the queue itself, and nothing waits there.
    expect(await c.counts(queueUrl)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });

    await c.scheduler.send(new DeleteScheduleCommand({ Name: scheduleNameOf(id), GroupName: groupName }));
  });

  it("answers with the SDK's exceptions: missing, duplicate, invalid", async () => {
    const target = queueArnOf(cloud.queueUrl('default'), region);
    const name = `by-hand-${randomUUID().slice(0, 8)}`;
    await expect(c.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: groupName }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(c.scheduler.send(new DeleteScheduleCommand({ Name: name }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(c.scheduler.send(new CreateScheduleCommand(byHand({ Name: name, GroupName: 'no-such-group' }, target)))).rejects.toBeInstanceOf(ResourceNotFoundException);

    await c.scheduler.send(new CreateScheduleCommand(byHand({ Name: name, GroupName: groupName }, target)));
    const duplicate = await c.scheduler.send(new CreateScheduleCommand(byHand({ Name: name, GroupName: groupName }, target))).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(ConflictException);
    expect(duplicate).toMatchObject({ message: `Schedule ${name} already exists.`, $metadata: { httpStatusCode: 409 } });

    const invalid = [
      byHand({ Name: `${name}-a`, ScheduleExpression: 'at(2026-02-30T10:00:00)' }, target),
      byHand({ Name: `${name}-b`, ScheduleExpression: 'at(2026-12-01 10:00:00)' }, target),
      byHand({ Name: `${name}-c`, ScheduleExpression: 'rate(0 minutes)' }, target),
      byHand({ Name: `${name}-d`, ScheduleExpression: 'cron(0 3 * * *)' }, target),
      byHand({ Name: `${name}-e`, ScheduleExpression: 'cron(0 3 * * 1 *)' }, target),
      byHand({ Name: 'not a name!' }, target),
      byHand({ Name: 'x'.repeat(65) }, target),
      byHand({ Name: `${name}-f` }, target, 'x'.repeat(8193)),
      byHand({ Name: `${name}-g`, Target: { Arn: target, RoleArn: 'not-a-role' } }, target),
      byHand({ Name: `${name}-h`, ScheduleExpressionTimezone: 'Mars/Olympus' }, target),
    ];
    for (const input of invalid) {
      await expect(c.scheduler.send(new CreateScheduleCommand(input)), input.Name).rejects.toBeInstanceOf(ValidationException);
    }
    const { Schedules } = await c.scheduler.send(new ListSchedulesCommand({ NamePrefix: name }));
    expect(Schedules!.map((s) => s.Name)).toEqual([name]);
    await c.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: groupName }));
  });

  it('a pending schedule survives a restart, and fires on the restarted cloud', async () => {
    const queueUrl = cloud.queueUrl('default');
    const { envelope } = await c.producer({ default: queueUrl }).sendMessage('default.noop', { echo: 'across a restart' }, { countdown: twentyMinutes });
    const before = await c.getSchedule(envelope.id);
    c.close();
    expect(await cloud.stop()).toBe(0);

    restartedFrom = cloud;
    // The same data folder and schema, on a compressed clock: the 20 minutes pass in 5 s.
    cloud = await startLocalCloudProcess({ LOCAL_CLOUD_DIR: restartedFrom.dir, ...(restartedFrom.schema ? { DB_SCHEMA: restartedFrom.schema } : {}), SCHEDULE_TIME_SCALE: compressed });
    c = connect(cloud);
    expect(cloud.ready).toContain('1 schedules restored');
    const after = await c.getSchedule(envelope.id);
    expect(after).toMatchObject({ ScheduleExpression: before.ScheduleExpression, CreationDate: before.CreationDate, Target: { Input: before.Target!.Input } });

    await c.gone(envelope.id, 20_000);
    const restartedQueue = cloud.queueUrl('default');
    // The consumer took it and hid it again until the envelope's real ETA: it has not run.
    await waitFor(async () => (await c.counts(restartedQueue)).notVisible >= 1, 10_000, 'the consumer to delay the message again');
    expect(await c.taskApi(envelope.id)).toBeUndefined();
  });
});

describe(`one-time schedules fire on the local cloud's compressed clock (${databaseKind})`, () => {
  let cloud: Cloud;
  let c: ReturnType<typeof connect>;
  /** The result store a producer revokes in: the cloud's on PostgreSQL, one of its own on PGlite (the cloud holds its files). */
  let store: { database: Database; close(): Promise<void> };

  beforeAll(async () => {
    const pglite = process.env.DATABASE_URL ? undefined : openTestDatabase();
    cloud = await startLocalCloudProcess({ SCHEDULE_TIME_SCALE: compressed });
    c = connect(cloud);
    const shared = cloud.schema ? await openDatabase({ kind: 'postgres', url: process.env.DATABASE_URL! }, { schema: cloud.schema }) : undefined;
    store = shared ? { database: shared, close: () => shared.close() } : await pglite!;
  });
  afterAll(async () => {
    c?.close();
    await store?.close();
    await cloud?.cleanUp();
  });

  it('at the ETA the schedule sends its envelope, still carrying the real ETA, and deletes itself', async () => {
    const watched = await c.freshQueue();
    const polled = cloud.queueUrl('default');
    const started = Date.now();
    const [exact, consumed] = await Promise.all([
      c.producer({ default: watched }).sendMessage('default.noop', { echo: 'watched' }, { countdown: twentyMinutes }),
      c.producer({ default: polled }).sendMessage('default.noop', { echo: 'consumed' }, { countdown: twentyMinutes }),
    ]);
    expect((await c.getSchedule(exact.envelope.id)).Target!.Arn).toBe(queueArnOf(watched, region));

    await c.gone(exact.envelope.id, 20_000);
    const [arrived] = await waitFor(async () => {
      const messages = await c.receive(watched);
      return messages.length ? messages : undefined;
    }, 5_000, 'the message');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThan(2_000);
    expect(elapsed).toBeLessThan(15_000);
    expect(arrived!.Body).toBe(exact.body);
    expect(Date.parse(JSON.parse(arrived!.Body!).eta) - Date.now()).toBeGreaterThan(15 * 60_000);

    // On the task queue the consumer finds the ETA still ahead and hides the message until then.
    await c.gone(consumed.envelope.id, 5_000);
    await waitFor(async () => (await c.counts(polled)).notVisible >= 1, 10_000, 'the consumer to delay the message again');
    expect(await c.taskApi(consumed.envelope.id)).toBeUndefined();
  });

  it('revoking the task deletes its schedule: nothing is sent, and the task never runs', async () => {
    const watched = await c.freshQueue();
    const producer = c.producer({ default: watched }, store.database);
    const result = await producer.send('default.noop', { echo: 'never' }, { countdown: twentyMinutes });
    await c.getSchedule(result.id);
    expect(await producer.revoke(result.id, 'changed my mind')).toBe('REVOKED');
    await expect(c.getSchedule(result.id)).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(await taskRow(store.database, result.id)).toMatchObject({ status: 'REVOKED', error: 'changed my mind' });
    if (cloud.schema) expect(await c.taskApi(result.id)).toMatchObject({ status: 'REVOKED' });

    // Through the cloud's own API (the operations facade's producer), on the real task queue.
    const sent = (await (await fetch(`${cloud.dashboardUrl}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'default.noop', payload: { echo: 'never either' }, countdown: twentyMinutes }) })).json()) as { id: string; eta: string };
    expect((await c.getSchedule(sent.id)).ScheduleExpression).toBe(`at(${atSecond(sent.eta)})`);
    const revoked = await fetch(`${cloud.dashboardUrl}/api/tasks/${sent.id}/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(await revoked.json()).toEqual({ id: sent.id, status: 'REVOKED' });
    await expect(c.getSchedule(sent.id)).rejects.toBeInstanceOf(ResourceNotFoundException);

    // Past both ETAs on the compressed clock (5 s): nothing arrived.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(await c.receive(watched)).toEqual([]);
    expect(await c.counts(watched)).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
    expect(await c.taskApi(sent.id)).toMatchObject({ status: 'REVOKED' });
  });

  it('fires a schedule whose time has passed at once, retries a target that refuses, and logs one that keeps refusing', async () => {
    const pastAt = `at(${new Date(Date.now() - 60_000).toISOString().slice(0, 19)})`;
    const queueName = `later-${randomUUID().slice(0, 8)}`;
    const name = `retry-${randomUUID().slice(0, 8)}`;
    // The queue does not exist yet: the first attempt fails, the retry a second later finds it.
    await c.scheduler.send(new CreateScheduleCommand(byHand({
      Name: name,
      ScheduleExpression: pastAt,
      ActionAfterCompletion: 'NONE',
      Target: { Arn: `arn:aws:sqs:${region}:000000000000:${queueName}`, RoleArn: roleArn, Input: 'attempt <aws.scheduler.attempt-number> of <aws.scheduler.scheduled-time>', RetryPolicy: { MaximumRetryAttempts: 3 } },
    }, '')));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const url = await c.freshQueue(queueName);
    const [arrived] = await waitFor(async () => {
      const messages = await c.receive(url);
      return messages.length ? messages : undefined;
    }, 10_000, 'the retried message');
    expect(arrived!.Body).toBe(`attempt 2 of ${pastAt.slice(3, -1)}Z`);
    // ActionAfterCompletion NONE: it stays, and does not fire again.
    expect(await c.scheduler.send(new GetScheduleCommand({ Name: name }))).toMatchObject({ State: 'ENABLED', ScheduleExpression: pastAt });
    expect(await c.receive(url)).toEqual([]);

    // Retried once, then the dead-letter event goes to the schedule's DLQ, the failure to the log, and the schedule away.
    const refused = `refused-${randomUUID().slice(0, 8)}`;
    const deadLetters = await c.freshQueue();
    const missing = `arn:aws:sqs:${region}:000000000000:no-such-queue`;
    await c.scheduler.send(new CreateScheduleCommand(byHand({
      Name: refused,
      ScheduleExpression: pastAt,
      Target: { Arn: missing, RoleArn: roleArn, Input: '{"n":1}', RetryPolicy: { MaximumRetryAttempts: 1 }, DeadLetterConfig: { Arn: queueArnOf(deadLetters, region) } },
    }, '')));
    const [dead] = await waitFor(async () => {
      const messages = await c.receive(deadLetters);
      return messages.length ? messages : undefined;
    }, 10_000, 'the dead-letter event');
    expect(dead!.Body).toBe('{"n":1}');
    const attribute = (name: string) => dead!.MessageAttributes?.[name]?.StringValue;
    expect([attribute('TARGET_ARN'), attribute('RETRY_ATTEMPTS'), attribute('SCHEDULE_ARN')]).toEqual([missing, '1', `arn:aws:scheduler:${region}:000000000000:schedule/default/${refused}`]);
    expect(attribute('ERROR_MESSAGE')).toMatch(/exist/i);
    await waitFor(() => c.scheduler.send(new GetScheduleCommand({ Name: refused })).then(() => false, (error: unknown) => error instanceof ResourceNotFoundException), 5_000, 'the refused schedule to be deleted');
    await waitFor(() => cloud.stderr.some((line) => line.startsWith(`[scheduler default/${refused}] target ${missing} failed 2 times`)), 2_000, 'the failure in the log');
  }, 30_000);
});

/** The ETA as `at()` holds it: rounded up to the second, so the schedule never fires early. */
function atSecond(eta: string): string {
  return new Date(Math.ceil(Date.parse(eta) / 1000) * 1000).toISOString().slice(0, 19);
}
