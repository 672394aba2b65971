import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetEventSourceMappingCommand, LambdaClient, ListEventSourceMappingsCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { laneConcurrency, queues as queueDefinitions, type QueueName } from '../../shared/catalogue/index.ts';
import { scheduleNameOf } from '../../shared/producer/long-delay.ts';
import { resourcesOfType } from './assembly.ts';
import { migrationsApply } from './checks/startup.ts';
import { region, resolve } from './environment.ts';
import { startRehearsal, type Rehearsal } from './rehearsal.ts';
import { sendAll, tasksOfEachQueue } from './seeds.ts';
import type { RecordedCall } from './stand-ins/aws-front.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const stage = 'dev';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The AWS calls it made, as the front recorded them. */
  readonly calls: readonly RecordedCall[];
}

/**
 * `taskq --stage dev` as an operator runs it: the real CLI in its own process, finding the
 * rehearsed stage from SSM and the stack outputs, with nothing but AWS_ENDPOINT_URL, a
 * Region and a session of the stack's operator role in its environment: every call it
 * makes is checked against that role's policies in the template.
 */
describe('taskq --stage against the rehearsed dev stage', () => {
  let rehearsal: Rehearsal;
  let environment: Record<string, string>;
  /** The rehearsal's own unchecked identity, for what the operator role may not do. */
  let administrator: Record<string, string>;
  const cliCalls: RecordedCall[] = [];

  beforeAll(async () => {
    rehearsal = await startRehearsal({ stage });
    await migrationsApply.run(rehearsal);
    const credentials = rehearsal.operatorRoleCredentials;
    environment = {
      PATH: process.env.PATH ?? '',
      AWS_ENDPOINT_URL: rehearsal.front.endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    };
    const admin = await rehearsal.operator.sqs.config.credentials();
    administrator = { ...environment, AWS_ACCESS_KEY_ID: admin.accessKeyId, AWS_SECRET_ACCESS_KEY: admin.secretAccessKey, AWS_SESSION_TOKEN: admin.sessionToken ?? '' };
  }, 120_000);
  afterAll(async () => {
    await rehearsal?.stop();
  }, 60_000);

  /** Runs the CLI without blocking this process: the front and the consumers live in it. */
  async function cli(args: readonly string[], env = environment): Promise<Run> {
    const first = rehearsal.front.calls.length;
    const run = await new Promise<Omit<Run, 'calls'>>((done) => {
      execFile(`${root}node_modules/.bin/node`, [`${root}shared/cli/main.ts`, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
        done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });
    const calls = rehearsal.front.calls.slice(first).filter((call) => call.caller === 'taskq');
    cliCalls.push(...calls);
    return { ...run, calls };
  }
  const taskq = (...args: string[]) => cli(['--stage', stage, ...args]);
  const json = <T>(run: Run): T => {
    if (run.code !== 0) throw new Error(`taskq exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  };
  const until = async (condition: () => Promise<boolean> | boolean, timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${condition.toString()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const depth = async (queueName: string) => {
    const { Attributes = {} } = await rehearsal.operator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: rehearsal.queueUrl(queueName), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }));
    return Object.values(Attributes).reduce((sum, count) => sum + Number(count), 0);
  };
  const consumerBatches = () => rehearsal.invocations.filter((report) => report.function === rehearsal.fn('DefaultTasksConsumer').spec.name && report.records > 0).length;

  it('sends a task that the isolated consumer bundle runs, and waits for its SUCCESS', async () => {
    const batches = consumerBatches();
    const run = await taskq('send', 'default.noop', '--payload', '{"echo":"from taskq"}', '--wait', '--timeout', '30');
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const [id, outcome] = run.stdout.split('\n');
    expect(outcome).toBe(`${id} SUCCESS after 1 attempt`);
    expect(JSON.parse(run.stdout.split('\n').slice(2).join('\n'))).toEqual({ echo: 'from taskq' });
    await until(() => consumerBatches() > batches);

    const history = await taskq('history', '--task', 'default.noop', '--json');
    expect(json<{ id: string; status: string }[]>(history)).toContainEqual(expect.objectContaining({ id, status: 'SUCCESS' }));
    expect(history.calls).toContainEqual(expect.objectContaining({ action: 'rds-data:ExecuteStatement', resource: rehearsal.dataApi.target.resourceArn }));
  });

  it("sends a high-priority task to the queue's high lane, whose event source invokes the consumer bundle", async () => {
    const run = await taskq('send', 'billing.process_refund', '--payload', '{"paymentIntentId":"pi_lane","reason":"duplicate"}', '--priority', 'high', '--wait', '--timeout', '30');
    expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(run.stdout.split('\n')[1]).toMatch(/ SUCCESS after 1 attempt$/);
    expect(run.calls).toContainEqual(expect.objectContaining({ action: 'sqs:SendMessage', resource: `arn:aws:sqs:${region}:000000000000:${stage}-billing-high`, decision: 'allow' }));
    const bad = await taskq('send', 'default.noop', '--priority', 'urgent');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^taskq: --priority is high or normal, not urgent/);
  });

  it('reads a result too large for a row back from the results bucket', async () => {
    const echo = 'q'.repeat(40_000);
    const run = await taskq('send', 'default.noop', '--payload', JSON.stringify({ echo }), '--wait', '--timeout', '30');
    expect(run, run.stderr).toMatchObject({ code: 0 });
    const id = run.stdout.split('\n')[0]!;

    const result = await taskq('result', id, '--json');
    expect(json<{ result: { echo: string } }>(result).result.echo === echo).toBe(true);
    expect(result.calls).toContainEqual(expect.objectContaining({ action: 's3:GetObject' }));
  });

  it('sends a payload over 256 KiB by reference: taskq puts it in the files bucket, the consumer bundle reads it and deletes it once the task succeeds', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'rehearsal-payload-')), 'payload.json');
    const echo = 'r'.repeat(300 * 1024);
    await writeFile(file, JSON.stringify({ echo }));
    const consumerName = rehearsal.fn('DefaultTasksConsumer').spec.name;
    const first = rehearsal.front.calls.length;
    const run = await taskq('send', 'default.noop', '--payload', `@${file}`, '--wait', '--timeout', '30', '--json');
    expect(json<{ status: string; result: { echo: string } }>(run)).toMatchObject({ status: 'SUCCESS' });
    expect(run.calls).toContainEqual(expect.objectContaining({ action: 's3:PutObject', resource: expect.stringMatching(/^arn:aws:s3:::[a-z0-9-]+\/task-payloads\/[^/]+\/[0-9a-f]{64}\.json$/), decision: 'allow' }));
    await until(() => rehearsal.front.calls.slice(first).some((call) => call.caller === consumerName && call.action === 's3:DeleteObject'));
    const consumerCalls = rehearsal.front.calls.slice(first).filter((call) => call.caller === consumerName && call.service === 's3');
    expect(consumerCalls.map((call) => [call.action, call.decision])).toEqual(expect.arrayContaining([['s3:GetObject', 'allow'], ['s3:DeleteObject', 'allow']]));
  });

  it("lists a dead letter, shows it in the queues' counts, and redrives it to its queue", async () => {
    const good = tasksOfEachQueue().default[0]!;
    const malformed = { ...good, id: `malformed-${good.id}`, payload: { unexpected: true } };
    await sendAll(rehearsal, `${stage}-default`, [malformed]);
    await until(async () => (await depth(`${stage}-default-dlq`)) === 1 && (await depth(`${stage}-default`)) === 0);

    const queues = json<{ queue: string; lane: string; visible: number; inFlight: number; delayed: number; deadLetters: number }[]>(await taskq('queues', '--json'));
    const published = resourcesOfType(rehearsal.assembly.template, 'AWS::SSM::Parameter')
      .map(([, parameter]) => /^\/datacleanup\/[^/]+\/queues\/([^/]+)\/url$/.exec(String(resolve(parameter.Properties?.Name, rehearsal.values)))?.[1])
      .filter(Boolean);
    // Every lane the stack publishes, the high-priority ones included.
    expect(queues.map((depths) => depths.lane).sort()).toEqual(published.sort());
    expect(published).toContain('default-high');
    for (const depths of queues) {
      expect(depths).toEqual({ queue: depths.lane.replace(/-high$/, ''), lane: depths.lane, priority: depths.lane.endsWith('-high') ? 'high' : 'normal', visible: 0, inFlight: 0, delayed: 0, deadLetters: depths.lane === 'default' ? 1 : 0, oldestAgeSeconds: null });
    }

    const letters = json<{ taskId: string; task: string; reason: string | null }[]>(await taskq('dlq', 'list', 'default', '--json'));
    expect(letters).toEqual([expect.objectContaining({ taskId: malformed.id, task: 'default.noop', reason: expect.stringMatching(/.+/) })]);

    const batches = consumerBatches();
    const redrive = await taskq('dlq', 'redrive', 'default');
    expect(redrive, redrive.stderr).toMatchObject({ code: 0, stdout: "moved 1 message from default's dead-letter queue back to default\n" });
    // Back on its queue, the consumer receives it again, and dead-letters it again: it is still malformed.
    await until(() => consumerBatches() > batches);
    await until(async () => (await depth(`${stage}-default-dlq`)) === 1);
  });

  it('revokes a task sent with a countdown, which ends REVOKED when its message arrives', async () => {
    const sent = await taskq('send', 'default.noop', '--payload', '{"echo":"never"}', '--countdown', '10');
    const id = sent.stdout.trim();
    const batches = consumerBatches();
    expect(await taskq('revoke', id)).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
    await until(() => consumerBatches() > batches);
    await until(async () => (await depth(`${stage}-default`)) === 0);
    expect(json<{ status: string }>(await taskq('result', id, '--json'))).toMatchObject({ id, status: 'REVOKED' });
  });

  it("revokes a task whose ETA is beyond SQS's delay, deleting its one-time schedule", async () => {
    const id = (await taskq('send', 'default.noop', '--payload', '{}', '--countdown', '3600')).stdout.trim();
    const pending = () => rehearsal.scheduler.save().schedules.filter((schedule) => schedule.Name === scheduleNameOf(id));
    expect(pending()).toEqual([expect.objectContaining({ GroupName: `${stage}-task-etas`, ActionAfterCompletion: 'DELETE' })]);
    expect(await taskq('revoke', id)).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
    expect(pending()).toEqual([]);
    expect(json<{ status: string }>(await taskq('result', id, '--json'))).toMatchObject({ status: 'REVOKED' });
  });

  it("inspects the stage's catalogue, claims, schedules and reservations, and changes a rate limit there for every consumer", async () => {
    type Registered = { name: string; rateLimit: { catalogue: string | null; override: string | null; effective: string | null } };
    const noop = async () => json<Registered[]>(await taskq('inspect', 'registered', '--json')).find((task) => task.name === 'default.noop')!;
    expect((await noop()).rateLimit).toEqual({ catalogue: null, override: null, effective: null });
    const changed = await taskq('control', 'rate-limit', 'default.noop', '30/m');
    expect(changed, changed.stderr).toMatchObject({ code: 0, stdout: "rate limit of default.noop is now 30/m (the catalogue's: none); every consumer applies it within 5 s, without a deploy\n" });
    expect(changed.calls).toContainEqual(expect.objectContaining({ action: 'rds-data:ExecuteStatement', resource: rehearsal.dataApi.target.resourceArn }));
    expect((await noop()).rateLimit).toEqual({ catalogue: null, override: '30/m', effective: '30/m' });
    expect(json(await taskq('control', 'reset', 'default.noop', '--json'))).toMatchObject({ reset: true, rateLimit: { override: null } });

    expect(json<unknown[]>(await taskq('inspect', 'active', '--json'))).toEqual(expect.any(Array));
    const id = (await taskq('send', 'default.noop', '--payload', '{}', '--countdown', '3600')).stdout.trim();
    const scheduled = json<{ tasks: { kind: string; id: string; queue: string }[]; listed: boolean }>(await taskq('inspect', 'scheduled', '--json'));
    // SQS shows no delayed message to anyone: against AWS, scheduled lists the one-time schedules and counts the rest.
    expect(scheduled).toMatchObject({ listed: false, tasks: [expect.objectContaining({ kind: 'schedule', id, queue: 'default' })] });
    expect(await taskq('revoke', id)).toMatchObject({ code: 0 });
    const reserved = json<{ listed: boolean; queues: { queue: string }[]; tasks: unknown[] }>(await taskq('inspect', 'reserved', '--json'));
    expect(reserved).toMatchObject({ listed: false, tasks: [] });
    expect(reserved.queues.map((q) => q.queue).sort()).toEqual(['ai', 'billing', 'data', 'default']);
  });

  it("pauses the default consumer's event source mapping, which leaves a task waiting, and resumes it, which runs the task", async () => {
    type Stats = { queue: string; consumer: string; concurrency: { maximum: number } };
    const consumers = async () => Object.fromEntries(json<Stats[]>(await taskq('inspect', 'stats', '--json')).map((s) => [s.queue, s]));
    const before = await consumers();
    expect(Object.keys(before).sort()).toEqual(['ai', 'billing', 'data', 'default']);
    // Both lanes' mappings invoke the consumer: its queue's and its high-priority lane's.
    for (const stats of Object.values(before)) {
      const definition = queueDefinitions[stats.queue as QueueName];
      expect(stats).toMatchObject({ consumer: 'Enabled', concurrency: { maximum: laneConcurrency(definition, 'normal') + laneConcurrency(definition, 'high') } });
    }
    const mappings = resourcesOfType(rehearsal.assembly.template, 'AWS::Lambda::EventSourceMapping')
      .map(([id, resource]) => ({ uuid: rehearsal.values.ref(id), queueArn: resolve(resource.Properties?.EventSourceArn, rehearsal.values) }))
      .filter(({ queueArn }) => queueArn === `arn:aws:sqs:${region}:000000000000:${stage}-default` || queueArn === `arn:aws:sqs:${region}:000000000000:${stage}-default-high`);
    expect(mappings).toHaveLength(2);

    const paused = await taskq('control', 'pause', 'default');
    expect(paused, paused.stderr).toMatchObject({ code: 0, stdout: 'paused default: its consumer receives nothing until taskq control resume default; invocations under way finish (Disabling)\n' });
    for (const mapping of mappings) expect(paused.calls).toContainEqual(expect.objectContaining({ action: 'lambda:UpdateEventSourceMapping', resource: `arn:aws:lambda:${region}:000000000000:event-source-mapping:${mapping.uuid}`, decision: 'allow' }));
    expect((await consumers()).default?.consumer).toBe('Disabled');
    expect((await consumers()).ai?.consumer).toBe('Enabled');

    const batches = consumerBatches();
    const id = (await taskq('send', 'default.noop', '--payload', '{"echo":"after the pause"}', '--tenant', 'acme')).stdout.trim();
    // Longer than a poll and a batch take here: a consumer that still received would have run it.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(consumerBatches()).toBe(batches);
    expect(await depth(`${stage}-default`)).toBe(1);
    // Sent in its tenant's group, which turns on SQS fair queues; seen, then handed back at once.
    const queueUrl = rehearsal.queueUrl(`${stage}-default`);
    const { Messages = [] } = await rehearsal.operator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ['MessageGroupId'], WaitTimeSeconds: 1 }));
    expect(Messages.map((message) => [JSON.parse(message.Body!).id, message.Attributes?.MessageGroupId])).toEqual([[id, 'acme']]);
    await rehearsal.operator.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle!, VisibilityTimeout: 0 }));
    // Nothing is recorded of a task no consumer has received: result answers PENDING and exits 1.
    expect(await taskq('result', id, '--json')).toMatchObject({ code: 1, stdout: `${JSON.stringify({ id, status: 'PENDING' })}\n` });

    expect(await taskq('control', 'resume', 'default')).toMatchObject({ code: 0, stdout: 'resumed default: its consumer receives again (Enabling)\n' });
    await until(async () => (await taskq('result', id, '--json')).stdout.includes('"status":"SUCCESS"'));
    expect((await consumers()).default?.consumer).toBe('Enabled');
  });

  it('counts tasks by filter on the stage, and purges the finished ones, as the operator role allows', async () => {
    const good = tasksOfEachQueue().default[0]!;
    const failing = { ...good, id: `bulk-${good.id}`, payload: { unexpected: true } };
    await sendAll(rehearsal, `${stage}-default`, [failing]);
    await until(async () => (await taskq('result', failing.id, '--json')).stdout.includes('"status":"FAILURE"'));

    const retry = await taskq('retry', '--search', failing.id, '--dry-run', '--json');
    expect(json(retry)).toMatchObject({ action: 'retry', dryRun: true, matched: 1, affected: 0, examples: [expect.objectContaining({ id: failing.id, status: 'FAILURE' })] });
    const purged = await taskq('purge', '--search', failing.id, '--yes', '--json');
    expect(json(purged)).toMatchObject({ action: 'purge', dryRun: false, matched: 1, affected: 1, skipped: [] });
    expect(purged.calls.filter((call) => call.decision !== 'allow')).toEqual([]);
    expect(purged.calls).toContainEqual(expect.objectContaining({ action: 'rds-data:ExecuteStatement', decision: 'allow' }));
    // Nothing is kept of a purged task: it reads as one never received.
    expect(await taskq('result', failing.id, '--json')).toMatchObject({ code: 1, stdout: `${JSON.stringify({ id: failing.id, status: 'PENDING' })}\n` });
    // Its message went to the dead-letter queue with the failure; the record is gone, the letter stays until purged.
    await until(async () => (await taskq('dlq', 'list', 'default', '--json')).stdout.includes(failing.id));
    expect((await taskq('dlq', 'purge', 'default', '--yes')).code).toBe(0);
  });

  it('answers a bad argument with the usage and exit code 2, and a stage not deployed with one line and 1', async () => {
    const bad = await taskq('dlq', 'list', 'nowhere');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^taskq: unknown queue nowhere; the queues are default, ai, data, billing\n\nusage: taskq /);
    // The dev stage's operator role may read only the dev stage; an administrator finds no other.
    expect(await cli(['--stage', 'nowhere', 'queues'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^taskq: cannot reach stage nowhere in AWS: User: \S+\/taskq is not authorized to perform: ssm:GetParametersByPath on resource: \S+:parameter\/datacleanup\/nowhere\/ /) });
    expect(await cli(['--stage', 'nowhere', 'queues'], administrator)).toMatchObject({ code: 1, stderr: 'taskq: no queues are published under /datacleanup/nowhere/queues/: is stage nowhere deployed in this account and region?\n' });
  });

  it("reaches every service through the SDK's per-service endpoint variables too", async () => {
    const { AWS_ENDPOINT_URL: endpoint = '', ...rest } = environment;
    const perService = { ...rest, ...Object.fromEntries(['SSM', 'CLOUDFORMATION', 'SQS', 'RDS_DATA', 'SCHEDULER'].map((service) => [`AWS_ENDPOINT_URL_${service}`, endpoint])) };
    // queues reads SSM, the stack and SQS; revoke reaches Scheduler and the Data API.
    const runs = [await cli(['--stage', stage, 'queues'], perService), await cli(['--stage', stage, 'revoke', `never-sent-${Date.now()}`], perService)];
    for (const run of runs) expect(run, run.stderr).toMatchObject({ code: 0 });
    expect(new Set(runs.flatMap((run) => run.calls.map((call) => call.service)))).toEqual(new Set(['ssm', 'cloudformation', 'sqs', 'rds-data', 'scheduler']));
  });

  it("makes only calls the operator role allows, each served by a stand-in", () => {
    // Only the look for a stage the role does not cover was refused.
    expect(cliCalls.filter((call) => call.decision !== 'allow')).toEqual([expect.objectContaining({ action: 'ssm:GetParametersByPath', resource: `arn:aws:ssm:${region}:000000000000:parameter/datacleanup/nowhere/` })]);
    expect(new Set(cliCalls.map((call) => call.service))).toEqual(new Set(['ssm', 'cloudformation', 'sqs', 'rds-data', 's3', 'scheduler', 'lambda']));
    expect(cliCalls).toContainEqual(expect.objectContaining({ action: 'ssm:GetParametersByPath', resource: `arn:aws:ssm:${region}:000000000000:parameter/datacleanup/${stage}/` }));
    expect(cliCalls).toContainEqual(expect.objectContaining({ action: 'cloudformation:DescribeStacks', resource: expect.stringMatching(new RegExp(`^arn:aws:cloudformation:${region}:000000000000:stack/DataCleanupTasks-${stage}/[0-9a-f-]{36}$`)) }));
  });

  describe('the Parameter Store, CloudFormation and Lambda stand-ins, through the real SDK clients', () => {
    const clients = () => {
      const config = { region, endpoint: rehearsal.front.endpoint, credentials: rehearsal.operator.sqs.config.credentials };
      return { ssm: new SSMClient(config), cloudFormation: new CloudFormationClient(config), lambda: new LambdaClient(config) };
    };

    it("lists each consumer's event source mapping as the template sets it, and refuses what Lambda refuses", async () => {
      const { lambda } = clients();
      const fn = rehearsal.fn('DefaultTasksConsumer').spec;
      const { EventSourceMappings = [], NextMarker } = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: fn.name }));
      expect(NextMarker).toBeUndefined();
      expect(EventSourceMappings).toEqual(expect.arrayContaining([
        expect.objectContaining({
          EventSourceArn: `arn:aws:sqs:${region}:000000000000:${stage}-default`, FunctionArn: fn.arn, State: 'Enabled',
          ScalingConfig: { MaximumConcurrency: queueDefinitions.default.maxConcurrency }, FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
        expect.objectContaining({
          EventSourceArn: `arn:aws:sqs:${region}:000000000000:${stage}-default-high`, FunctionArn: fn.arn, State: 'Enabled', MaximumBatchingWindowInSeconds: 0,
          ScalingConfig: { MaximumConcurrency: laneConcurrency(queueDefinitions.default, 'high') }, FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      ]));
      expect(EventSourceMappings).toHaveLength(2);
      const uuid = EventSourceMappings[0]!.UUID!;
      expect(await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }))).toMatchObject({ UUID: uuid, FunctionArn: fn.arn });
      expect((await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: fn.arn }))).EventSourceMappings).toHaveLength(2);
      // Two per consumer: 8 in all, in pages.
      const all = await lambda.send(new ListEventSourceMappingsCommand({ MaxItems: 3 }));
      expect(all.EventSourceMappings).toHaveLength(3);
      expect((await lambda.send(new ListEventSourceMappingsCommand({ Marker: all.NextMarker }))).EventSourceMappings).toHaveLength(5);

      await expect(lambda.send(new ListEventSourceMappingsCommand({ MaxItems: 0 }))).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
      await expect(lambda.send(new GetEventSourceMappingCommand({ UUID: '00000000-0000-4000-a000-000000000000' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } });
      await expect(lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, BatchSize: 5 }))).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
      lambda.destroy();
    });

    it("pages GetParametersByPath at most 10 a call, honouring MaxResults, and refuses what the service refuses", async () => {
      const { ssm } = clients();
      const expected = resourcesOfType(rehearsal.assembly.template, 'AWS::SSM::Parameter').map(([, parameter]) => [String(resolve(parameter.Properties?.Name, rehearsal.values)), String(resolve(parameter.Properties?.Value, rehearsal.values))]);
      const seen: string[][] = [];
      let NextToken: string | undefined;
      do {
        const page = await ssm.send(new GetParametersByPathCommand({ Path: `/datacleanup/${stage}`, Recursive: true, MaxResults: 4, NextToken }));
        expect(page.Parameters!.length).toBeLessThanOrEqual(4);
        seen.push(...page.Parameters!.map((parameter) => [parameter.Name!, parameter.Value!]));
        NextToken = page.NextToken;
      } while (NextToken);
      expect(seen.sort()).toEqual(expected.sort());
      expect(Object.fromEntries(seen)[`/datacleanup/${stage}/queues/default/url`]).toBe(rehearsal.queueUrl(`${stage}-default`));

      const first = await ssm.send(new GetParametersByPathCommand({ Path: `/datacleanup/${stage}/`, Recursive: true }));
      expect(first.Parameters).toHaveLength(Math.min(10, expected.length));
      expect(first.NextToken !== undefined).toBe(expected.length > 10);
      const oneLevel = await ssm.send(new GetParametersByPathCommand({ Path: `/datacleanup/${stage}/queues/default` }));
      expect(oneLevel.Parameters!.map((parameter) => parameter.Name).sort()).toEqual(['arn', 'dlq-url', 'url'].map((leaf) => `/datacleanup/${stage}/queues/default/${leaf}`));
      await expect(ssm.send(new GetParametersByPathCommand({ Path: '/datacleanup', MaxResults: 11 }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(ssm.send(new GetParametersByPathCommand({ Path: '/datacleanup', NextToken: 'not-a-token' }))).rejects.toMatchObject({ name: 'InvalidNextToken' });
      ssm.destroy();
    });

    it("describes the stack with the template's outputs resolved, and refuses a stack it does not hold", async () => {
      const { cloudFormation } = clients();
      const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: `DataCleanupTasks-${stage}` }));
      expect(Stacks).toHaveLength(1);
      const outputs = Object.fromEntries((Stacks[0]!.Outputs ?? []).map((output) => [output.OutputKey, output]));
      const template = rehearsal.assembly.template as typeof rehearsal.assembly.template & { Outputs: Record<string, unknown> };
      expect(Object.keys(outputs).sort()).toEqual(Object.keys(template.Outputs).sort());
      expect(outputs.ResultStoreClusterArn?.OutputValue).toBe(rehearsal.dataApi.target.resourceArn);
      expect(outputs.ResultStoreSecretArn?.OutputValue).toBe(rehearsal.dataApi.target.secretArn);
      expect(outputs.StripeWebhookUrl?.OutputValue).toBe([...rehearsal.functionUrls.values()][0]);
      expect(outputs.DefaultQueueUrl).toMatchObject({ OutputValue: rehearsal.queueUrl(`${stage}-default`), ExportName: `${stage}-datacleanup-default-queue-url` });
      await expect(cloudFormation.send(new DescribeStacksCommand({ StackName: 'DataCleanupTasks-prod' }))).rejects.toMatchObject({
        name: 'ValidationError',
        message: 'Stack with id DataCleanupTasks-prod does not exist',
        $metadata: { httpStatusCode: 400 },
      });
      cloudFormation.destroy();
    });
  });
});
