import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { laneName, queueNames, queues, schedules, tasks, tasksOfQueue } from '../../shared/catalogue/index.ts';
import { secretPlaceholder } from '../../shared/secrets.ts';
import { synthesize } from './synth.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

describe('the stack, dev stage', () => {
  let synthesized: ReturnType<typeof synthesize>;
  let template: Template;
  let resources: Resources;
  const logicalId = (element: unknown) => Stack.of(synthesized.stack).getLogicalId(element as CfnElement);
  const queueIds = (name: (typeof queueNames)[number], priority: 'normal' | 'high' = 'normal') => {
    const taskQueue = synthesized.stack.taskQueues[name];
    const lane = priority === 'high' ? taskQueue.highPriority : taskQueue;
    return [logicalId(lane.queue.node.defaultChild), logicalId(lane.deadLetterQueue.node.defaultChild)];
  };
  const lanes = queueNames.flatMap((name) => (['normal', 'high'] as const).map((priority) => ({ name, priority, lane: laneName(name, priority) })));

  beforeAll(() => {
    synthesized = synthesize({ stage: 'dev' });
    expect(synthesized.nagReport).toBeUndefined();
    template = synthesized.template!;
    resources = template.toJSON().Resources as Resources;
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    expect(synthesized.nagReport).toBeUndefined();
  });

  it('has two lanes per category, its queue and a high-priority queue, each with its dead-letter queue and the redrive and visibility rules', () => {
    // Four per category, and the schedules' dead-letter queue.
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::SQS::Queue')).toHaveLength(queueNames.length * 4 + 1);
    for (const { name, priority, lane } of lanes) {
      const budget = Math.max(...tasksOfQueue(name).map((t) => t.retry.maxRetries + 1));
      const [queueId, dlqId] = queueIds(name, priority);
      const queue = resources[queueId!]!.Properties;
      const dlq = resources[dlqId!]!.Properties;
      expect(queue).toMatchObject({ QueueName: `dev-${lane}`, SqsManagedSseEnabled: true, MaximumMessageSize: 1_048_576 });
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * queues[name].timeoutSeconds);
      const redrive = queue.RedrivePolicy as { maxReceiveCount: number; deadLetterTargetArn: unknown };
      expect(redrive.maxReceiveCount).toBeGreaterThan(budget);
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(5);
      expect(redrive.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
      expect(dlq).toMatchObject({ QueueName: `dev-${lane}-dlq`, SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600, MaximumMessageSize: 1_048_576 });
      expect(dlq.MessageRetentionPeriod as number).toBeGreaterThan(queue.MessageRetentionPeriod as number);
    }
  });

  it('denies every request to a queue that is not over HTTPS', () => {
    for (const { name, priority } of lanes) {
      for (const id of queueIds(name, priority)) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
        });
      }
    }
  });

  it('runs one consumer per queue on Node 24 arm64, outside any VPC, with the event source from the catalogue', () => {
    for (const name of queueNames) {
      const definition = queues[name];
      const consumerId = logicalId(synthesized.stack.taskQueues[name].consumer.node.defaultChild);
      expect(resources[consumerId]!.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: definition.timeoutSeconds,
        MemorySize: definition.memoryMb,
      });
      // Both lanes feed the one consumer; the high lane with the larger share of concurrency.
      for (const priority of ['normal', 'high'] as const) {
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: consumerId },
          EventSourceArn: { 'Fn::GetAtt': [queueIds(name, priority)[0], 'Arn'] },
          BatchSize: definition.batchSize,
          ScalingConfig: { MaximumConcurrency: priority === 'high' ? 2 * definition.maxConcurrency : definition.maxConcurrency },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          // The high lane invokes at once: its few tasks would otherwise wait out the window alone.
          MaximumBatchingWindowInSeconds: priority === 'normal' && definition.batchingWindowSeconds > 0 ? definition.batchingWindowSeconds : Match.absent(),
        });
      }
      const environment = (resources[consumerId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(environment[`QUEUE_URL_${name.toUpperCase()}_HIGH`]).toEqual({ Ref: queueIds(name, 'high')[0] });
      expect(environment[`DLQ_URL_${name.toUpperCase()}_HIGH`]).toEqual({ Ref: queueIds(name, 'high')[1] });
    }
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')).toHaveLength(queueNames.length * 2);
    for (const resource of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      expect(resource.Properties.VpcConfig).toBeUndefined();
      expect(resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
  });

  it('schedules each catalogue entry onto its queue with an envelope, a retry policy and a dead-letter queue', () => {
    const scheduled = Object.values(resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule');
    expect(scheduled).toHaveLength(Object.keys(schedules).length);
    for (const schedule of Object.values(schedules)) {
      const task = tasks[schedule.task];
      const resource = scheduled.find((r) => r.Properties.Name === `dev-${schedule.name}`)!;
      expect(resource.Properties.ScheduleExpression).toBe(schedule.expression);
      const target = resource.Properties.Target as { Arn: unknown; Input: string; RetryPolicy: unknown; DeadLetterConfig: unknown };
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [queueIds(task.queue as (typeof queueNames)[number])[0], 'Arn'] });
      expect(JSON.parse(target.Input)).toEqual({
        v: 1,
        id: `${schedule.name}:<aws.scheduler.scheduled-time>`,
        task: task.name,
        payload: schedule.payload,
        createdAt: '<aws.scheduler.scheduled-time>',
      });
      expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 5 });
      expect(target.DeadLetterConfig).toBeDefined();
    }
  });

  it('keeps results in Aurora Serverless v2 with the Data API, minimum capacity 0 and auto-pause, encrypted', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 2, SecondsUntilAutoPause: 300 },
      DeletionProtection: false,
    });
    template.resourceCountIs('Custom::Trigger', 1);
  });

  it("runs the migrations with the Celery results switch off, naming the stage and the results bucket the triggers write into Celery's rows", () => {
    const migrations = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === 'Applies the result store migrations on deploy');
    expect((migrations!.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      CELERY_RESULTS: 'off',
      STAGE: 'dev',
      RESULTS_BUCKET: { Ref: logicalId(synthesized.stack.files.bucket.node.defaultChild) },
    });
  });

  it('alarms on dead letters and backlog age of both lanes and on consumer errors, to the alarm topic', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(queueNames.length * 5 + 1);
    for (const { name, priority } of lanes) {
      const [queueId, dlqId] = queueIds(name, priority);
      const dimension = (id: string) => [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }];
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: dimension(dlqId!), Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }] });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: dimension(queueId!), Threshold: queues[name].oldestMessageAlarmSeconds });
    }
    expect(alarms.filter((a) => a.Properties.MetricName === 'Errors')).toHaveLength(queueNames.length);
  });

  it("lets a consumer consume only its own queue, and send to every task queue, its own included (a workflow's next step may be anywhere)", () => {
    for (const name of queueNames) {
      const roleId = logicalId(synthesized.stack.taskQueues[name].consumer.role!.node.defaultChild);
      const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId));
      const statements = policies.flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: unknown }).Statement as { Action: string | string[]; Resource: unknown }[]);
      for (const other of queueNames.filter((q) => q !== name)) {
        const [queueId, dlqId] = queueIds(other);
        const onOther = statements.filter((statement) => JSON.stringify(statement.Resource).includes(`"${queueId}"`));
        expect(onOther.length, `${name} consumer sends to ${other}`).toBeGreaterThan(0);
        for (const statement of onOther) expect([statement.Action].flat().every((action) => /^sqs:(SendMessage|GetQueueAttributes|GetQueueUrl)$/.test(action)), `${name} on ${other}: ${String(statement.Action)}`).toBe(true);
        expect(JSON.stringify(statements), `${name} consumer reaches ${other}'s DLQ`).not.toContain(`"${dlqId}"`);
      }
      const [queueId, dlqId] = queueIds(name);
      const own = JSON.stringify(statements.filter((statement) => JSON.stringify(statement.Resource).includes(`"${queueId}"`)));
      expect(own).toContain('sqs:ReceiveMessage');
      // A chain step or chord callback on the consumer's own queue is sent there.
      expect(own, `${name} consumer sends to its own queue`).toContain('sqs:SendMessage');
      expect(JSON.stringify(statements)).toContain(`"${dlqId}"`);
    }
  });

  it('keeps payloads sent by reference under task-payloads/: consumers read, put and delete them, producers and operators put them, and what remains expires', () => {
    const filesId = logicalId(synthesized.stack.files.bucket.node.defaultChild);
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'expire-task-payloads', Prefix: 'task-payloads/', ExpirationInDays: 30, Status: 'Enabled' }]) },
    });
    const onPayloads = (roleId: string) => Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement)
      .filter((statement) => JSON.stringify(statement.Resource).includes(filesId) && JSON.stringify(statement.Resource).includes('/task-payloads/*'))
      .flatMap((statement) => [statement.Action].flat())
      .sort();
    for (const name of queueNames) {
      expect(onPayloads(logicalId(synthesized.stack.taskQueues[name].consumer.role!.node.defaultChild)), name).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    }
    expect(onPayloads(logicalId(synthesized.stack.operators.role.node.defaultChild))).toEqual(['s3:PutObject']);
  });

  it('gives long ETAs a schedule group and a role Scheduler alone may assume, which may send to every task queue', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'dev-task-etas' });
    const roleId = logicalId(synthesized.stack.longDelays.role.node.defaultChild);
    const role = resources[roleId]!;
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    // Scheduler's aws:SourceArn is the schedule group's ARN, so the condition names the group itself.
    const [trust] = (role.Properties.AssumeRolePolicyDocument as { Statement: { Condition: Record<string, Record<string, unknown>> }[] }).Statement;
    const groupId = logicalId(synthesized.stack.longDelays.group.node.defaultChild);
    expect(trust!.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] } } });
    const policies = JSON.stringify(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId)));
    for (const name of queueNames) expect(policies).toContain(`"${queueIds(name)[0]}"`);
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/datacleanup/dev/task-etas/group' });
    expect(Object.keys(template.toJSON().Outputs as object)).toEqual(expect.arrayContaining(['TaskEtaScheduleGroup', 'TaskEtaRoleArn']));
  });

  it('serves the Stripe webhook from a function URL that may only send to the billing queue', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    const webhook = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'dev-stripe-webhook');
    expect(webhook![1].Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    const environment = JSON.stringify(webhook![1].Properties.Environment);
    expect(environment).toContain('STRIPE_WEBHOOK_SECRET_SECRET_ID');
    expect(environment).not.toMatch(/whsec_|sk_live|sk_test/);
    const policies = JSON.stringify(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes('StripeWebhook')));
    for (const other of queueNames.filter((q) => q !== 'billing')) for (const id of queueIds(other)) expect(policies).not.toContain(`"${id}"`);
    expect(policies).toContain(`"${queueIds('billing')[0]}"`);
    // Stripe's delivery must not wait on a resuming cluster: the webhook never reaches the database.
    expect(policies).not.toContain('rds-data:');
    expect(environment).not.toContain('DB_CLUSTER_ARN');
  });

  it("keeps every function's logs, CDK's own provider functions' and the cluster's included, for a month", () => {
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(6);
    for (const [id, fn] of functions) expect((fn.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup, id).toBeDefined();
    for (const [id, group] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays, id).toBe(30);
    // The exported PostgreSQL log's group exists before the cluster, which would otherwise make it without a retention.
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/rds/cluster/dev-datacleanup-tasks/postgresql', RetentionInDays: 30 });
    template.hasResourceProperties('AWS::RDS::DBCluster', { DBClusterIdentifier: 'dev-datacleanup-tasks' });
  });

  it("creates the third-party secrets with the placeholder readSecret reports as not configured, never a random string", () => {
    for (const name of ['stripe-api-key', 'stripe-webhook-secret', 'openai-api-key']) {
      template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: `dev/datacleanup/${name}`, SecretString: secretPlaceholder, GenerateSecretString: Match.absent() });
    }
  });

  it('delivers the files bucket access logs through a bucket policy, with ACLs disabled on every bucket', () => {
    const files = logicalId(synthesized.stack.files.bucket.node.defaultChild);
    for (const [id, bucket] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket')) {
      expect(bucket.Properties.AccessControl, id).toBeUndefined();
      expect(bucket.Properties.OwnershipControls, id).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Action: 's3:PutObject',
          Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [files, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        })]),
      },
    });
  });

  it("gives operators a role for taskq --stage that reaches only this stage, and may pause only its consumers' event source mappings", () => {
    const roleId = logicalId(synthesized.stack.operators.role.node.defaultChild);
    expect(resources[roleId]!.Properties.AssumeRolePolicyDocument).toEqual({
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } } }],
      Version: '2012-10-17',
    });
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
      .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    const actions = (statement: { Action: string | string[] }) => [statement.Action].flat();
    const mappings = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping').map(([id]) => id);
    expect(mappings).toHaveLength(queueNames.length * 2);
    const updates = statements.filter((statement) => actions(statement).includes('lambda:UpdateEventSourceMapping'));
    expect(updates.map((statement) => actions(statement))).toEqual([['lambda:UpdateEventSourceMapping']]);
    const updated = [updates[0]!.Resource].flat().map((resource) => mappings.find((id) => JSON.stringify(resource).includes(`{"Ref":"${id}"}`)));
    expect(updated.sort()).toEqual(mappings.sort());
    // Only the two listings, which take no resource, are unscoped.
    expect(statements.filter((statement) => statement.Resource === '*').flatMap(actions).sort()).toEqual(['lambda:ListEventSourceMappings', 'scheduler:ListSchedules']);
    const text = JSON.stringify(statements);
    for (const { name, priority } of lanes) for (const id of queueIds(name, priority)) expect(text).toContain(`"${id}"`);
    for (const action of ['sqs:PurgeQueue', 'sqs:StartMessageMoveTask', 'rds-data:ExecuteStatement', 'scheduler:CreateSchedule', 'iam:PassRole', 'ssm:GetParametersByPath', 'cloudformation:DescribeStacks']) expect(text).toContain(action);
    expect(text).toContain(':parameter/datacleanup/dev/*');
    // A bulk purge deletes the overflow of the rows it deletes, and nothing else of the bucket.
    expect(statements.filter((statement) => JSON.stringify(statement.Resource).includes('/task-results/*')).flatMap(actions).sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
    expect(Object.keys(template.toJSON().Outputs as object)).toContain('OperatorRoleArn');
  });

  it("draws a CloudWatch dashboard per queue, both lanes, and per task: outcomes, throttles, p50/p95/p99", () => {
    const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
    for (const name of queueNames) expect(body).toContain(`${name}: messages, normal and high lane`);
    for (const task of Object.keys(tasks)) expect(body).toContain(`\\"title\\":\\"${task}\\"`);
    for (const expected of ['high: waiting', 'high: dead letters', 'TaskThrottled', '\\"stat\\":\\"p95\\"', '\\"stat\\":\\"p99\\"']) expect(body).toContain(expected);
  });

  it('publishes queue URLs and ARNs as outputs and SSM parameters', () => {
    for (const { lane } of lanes) {
      for (const kind of ['url', 'arn', 'dlq-url']) template.hasResourceProperties('AWS::SSM::Parameter', { Name: `/datacleanup/dev/queues/${lane}/${kind}` });
    }
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(outputs).toEqual(expect.arrayContaining(['DefaultQueueUrl', 'AiQueueArn', 'BillingDeadLetterQueueUrl', 'DefaultHighPriorityQueueUrl', 'AiHighPriorityQueueArn', 'BillingHighPriorityDeadLetterQueueUrl']));
  });
});

describe('the stack, prod stage', () => {
  it('is protected: deletion protection, retained data, a warm minimum capacity, and no nag finding', () => {
    const { template, nagReport } = synthesize({ stage: 'prod', alarmEmail: 'ops@example.com' });
    expect(nagReport).toBeUndefined();
    template!.hasResourceProperties('AWS::RDS::DBCluster', { DeletionProtection: true, ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 8 } });
    // Data is kept on update and delete; a failed first create removes what it made, so a redeploy can reuse the fixed names.
    const resources = Object.entries(template!.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>);
    expect(resources.filter(([, r]) => r.DeletionPolicy === 'Retain').map(([id]) => id)).toEqual([]);
    // Every stateful resource, the cluster's writer, subnet group and admin secret included: CDK gives those
    // `Delete` for any policy but `RETAIN`, which would leave a retained cluster without its instance or credentials.
    const stateful = ['AWS::RDS::DBCluster', 'AWS::RDS::DBInstance', 'AWS::RDS::DBSubnetGroup', 'AWS::SQS::Queue', 'AWS::S3::Bucket', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'AWS::Scheduler::ScheduleGroup'];
    for (const type of stateful) expect(resources.filter(([, r]) => r.Type === type).length, type).toBeGreaterThan(0);
    const notRetained = resources.filter(([, r]) => stateful.includes(r.Type) && r.DeletionPolicy !== 'RetainExceptOnCreate');
    expect(notRetained.map(([id, r]) => `${id} (${r.Type}): ${r.DeletionPolicy ?? 'Delete'}`)).toEqual([]);
    template!.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('gives unknown stages production settings and refuses bad context', () => {
    const { template } = synthesize({ stage: 'staging' });
    template!.hasResourceProperties('AWS::RDS::DBCluster', { DeletionProtection: true });
    expect(() => synthesize({ stage: 'Bad Stage', alarmEmail: 'nope', celeryResults: 'yes' })).toThrow(/stage: .*; alarmEmail: .*; celeryResults: /);
  });

  it('turns Celery results on for a stage migrating from Celery (-c celeryResults=true)', () => {
    const { template } = synthesize({ stage: 'prod', celeryResults: 'true' });
    template!.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Applies the result store migrations on deploy',
      Environment: { Variables: Match.objectLike({ CELERY_RESULTS: 'on', STAGE: 'prod' }) },
    });
  });
});
