import { Aspects, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Duration } from 'aws-cdk-lib';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { TaskFunction } from './constructs/bundling.ts';
import type { Construct, IConstruct } from 'constructs';
import {
  catalogueErrors,
  laneName,
  laneVariable,
  queueNames,
  queues,
  schedules,
  settingsOfQueue,
  tasks,
  tasksOfQueue,
  type QueueName,
} from '../shared/catalogue/index.ts';
import { TasksDashboard } from './constructs/dashboard.ts';
import { FunctionLogRetention } from './constructs/log-retention.ts';
import { ResultStore } from './constructs/result-store.ts';
import { OperatorRole } from './constructs/operator-role.ts';
import { LongDelays, TaskSchedules } from './constructs/schedules.ts';
import { ApiSecrets, FileStorage } from './constructs/storage.ts';
import { TaskQueue } from './constructs/task-queue.ts';
import type { StageSettings } from './stage.ts';

export interface TaskPlatformStackProps extends StackProps {
  readonly stage: StageSettings;
}

/**
 * The whole system, built from the catalogue: a task or queue added there appears here
 * without touching this file.
 */
export class TaskPlatformStack extends Stack {
  readonly taskQueues: Record<QueueName, TaskQueue>;
  readonly resultStore: ResultStore;
  readonly files: FileStorage;
  readonly secrets: ApiSecrets;
  readonly alarmTopic: Topic;
  readonly longDelays: LongDelays;
  readonly operators: OperatorRole;

  constructor(scope: Construct, id: string, props: TaskPlatformStackProps) {
    super(scope, id, props);
    const { stage } = props;
    this.node.addValidation({ validate: () => catalogueErrors() });
    Aspects.of(this).add(new FunctionLogRetention({ retention: RetentionDays.ONE_MONTH, removalPolicy: stage.removalPolicy }));

    this.alarmTopic = new Topic(this, 'Alarms', { displayName: `DataCleanup Pro tasks (${stage.name})`, enforceSSL: true });
    if (stage.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(stage.alarmEmail));

    this.resultStore = new ResultStore(this, 'ResultStore', { stage });
    this.files = new FileStorage(this, 'Storage', {
      removalPolicy: stage.removalPolicy,
      temporaryObjectDays: stage.temporaryObjectDays,
      taskResultDays: schedules['cleanup-task-results'].payload.olderThanDays,
    });
    // Named in the Celery row of a result kept in the bucket; the migrations never read the bucket.
    this.resultStore.migrations.addEnvironment('RESULTS_BUCKET', this.files.bucket.bucketName);
    this.secrets = new ApiSecrets(this, 'Secrets', { stage: stage.name, removalPolicy: stage.removalPolicy });

    const shared = {
      ...this.resultStore.environment(),
      FILES_BUCKET: this.files.bucket.bucketName,
      RESULTS_BUCKET: this.files.bucket.bucketName,
      POWERTOOLS_SERVICE_NAME: 'datacleanup-tasks',
    };
    this.taskQueues = Object.fromEntries(
      queueNames.map((name) => [
        name,
        new TaskQueue(this, `${pascal(name)}Tasks`, {
          stage: stage.name,
          removalPolicy: stage.removalPolicy,
          queue: queues[name],
          settings: settingsOfQueue(name),
          largestRetryBudget: Math.max(0, ...tasksOfQueue(name).map((task) => task.retry.maxRetries + 1)),
          alarmTopic: this.alarmTopic,
          environment: shared,
        }),
      ]),
    ) as Record<QueueName, TaskQueue>;

    for (const name of queueNames) {
      const { consumer } = this.taskQueues[name];
      this.resultStore.grantDataApiAccess(consumer);
      this.files.grantResultOverflow(consumer);
      this.files.grantPayloads(consumer, 'consumer');
      // Any task may be a chain's next step or a chord's callback, on this queue or another: every
      // consumer may send to every task queue, its own included (TaskQueue sets its own URL).
      for (const target of queueNames) {
        this.taskQueues[target].grantSendMessages(consumer);
        if (target === name) continue;
        consumer.addEnvironment(laneVariable('QUEUE_URL', laneName(target)), this.taskQueues[target].queue.queueUrl);
        consumer.addEnvironment(laneVariable('QUEUE_URL', laneName(target, 'high')), this.taskQueues[target].highPriority.queue.queueUrl);
      }
    }
    this.files.grantFileAccess(this.taskQueues.data.consumer);
    this.secrets.openAiApiKey.grantRead(this.taskQueues.ai.consumer);
    this.taskQueues.ai.consumer.addEnvironment('OPENAI_API_KEY_SECRET_ID', this.secrets.openAiApiKey.secretName);
    this.secrets.stripeApiKey.grantRead(this.taskQueues.billing.consumer);
    this.taskQueues.billing.consumer.addEnvironment('STRIPE_API_KEY_SECRET_ID', this.secrets.stripeApiKey.secretName);

    const webhook = new TaskFunction(this, 'StripeWebhook', {
      entry: 'functions/stripe-webhook.ts',
      description: 'Stripe webhook endpoint: verifies the signature and queues the event for the billing consumer',
      functionName: `${stage.name}-stripe-webhook`,
      timeout: Duration.seconds(10),
      memorySize: 256,
      removalPolicy: stage.removalPolicy,
      environment: {
        STAGE: stage.name,
        QUEUE_URL_BILLING: this.taskQueues.billing.queue.queueUrl,
        STRIPE_WEBHOOK_SECRET_SECRET_ID: this.secrets.stripeWebhookSecret.secretName,
      },
    });
    this.taskQueues.billing.grantSendMessages(webhook);
    this.secrets.stripeWebhookSecret.grantRead(webhook);
    // Stripe cannot sign AWS requests: the endpoint is public and the Stripe-Signature check is its authentication.
    const webhookUrl = webhook.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'StripeWebhookUrl', { value: webhookUrl.url, description: 'Register this URL as the Stripe webhook endpoint' });

    const taskSchedules = new TaskSchedules(this, 'Schedules', {
      stage: stage.name,
      removalPolicy: stage.removalPolicy,
      schedules: Object.values(schedules),
      tasks,
      // A schedule's task goes to the lane its catalogue entry names.
      queueOf: (task) => (task.priority === 'high' ? this.taskQueues[task.queue as QueueName].highPriority : this.taskQueues[task.queue as QueueName]).queue,
    });
    this.longDelays = new LongDelays(this, 'LongDelays', {
      stage: stage.name,
      removalPolicy: stage.removalPolicy,
      queues: queueNames.flatMap((name) => this.taskQueues[name].lanes.map((lane) => lane.queue)),
      deadLetterQueue: taskSchedules.deadLetterQueue,
    });
    new Alarm(this, 'ScheduleDeadLettersAlarm', {
      metric: taskSchedules.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'EventBridge Scheduler could not deliver a scheduled task to its queue',
    }).addAlarmAction(new SnsAction(this.alarmTopic));

    this.operators = new OperatorRole(this, 'Operators', {
      stage: stage.name,
      queues: Object.values(this.taskQueues),
      resultStore: this.resultStore,
      files: this.files,
      longDelays: this.longDelays,
    });
    new CfnOutput(this, 'OperatorRoleArn', { value: this.operators.role.roleArn, description: 'Assume this role to run taskq --stage against the stage' });

    new TasksDashboard(this, 'Dashboard', { stage: stage.name, queues: Object.values(this.taskQueues), tasks: Object.values(tasks) });

    for (const name of queueNames) {
      for (const { priority, queue, deadLetterQueue } of this.taskQueues[name].lanes) {
        const lane = laneName(name, priority);
        const id = priority === 'high' ? `${pascal(name)}HighPriority` : pascal(name);
        for (const [kind, value] of [['url', queue.queueUrl], ['arn', queue.queueArn], ['dlq-url', deadLetterQueue.queueUrl]] as const) {
          new StringParameter(this, `${id}Queue${pascal(kind)}Parameter`, {
            parameterName: `/datacleanup/${stage.name}/queues/${lane}/${kind}`,
            stringValue: value,
            description: `${kind} of the ${name} task queue${priority === 'high' ? "'s high-priority lane" : ''}`,
          });
        }
        new CfnOutput(this, `${id}QueueUrl`, { value: queue.queueUrl, exportName: `${stage.name}-datacleanup-${lane}-queue-url` });
        new CfnOutput(this, `${id}QueueArn`, { value: queue.queueArn, exportName: `${stage.name}-datacleanup-${lane}-queue-arn` });
        new CfnOutput(this, `${id}DeadLetterQueueUrl`, { value: deadLetterQueue.queueUrl });
      }
    }
    const etas = this.longDelays.environment();
    new StringParameter(this, 'TaskEtaGroupParameter', { parameterName: `/datacleanup/${stage.name}/task-etas/group`, stringValue: etas.TASK_ETA_SCHEDULE_GROUP!, description: 'schedule group of long task ETAs' });
    new StringParameter(this, 'TaskEtaRoleParameter', { parameterName: `/datacleanup/${stage.name}/task-etas/role-arn`, stringValue: etas.TASK_ETA_ROLE_ARN!, description: 'role Scheduler uses to send long-delayed tasks' });
    new CfnOutput(this, 'TaskEtaScheduleGroup', { value: etas.TASK_ETA_SCHEDULE_GROUP! });
    new CfnOutput(this, 'TaskEtaRoleArn', { value: etas.TASK_ETA_ROLE_ARN! });
    new CfnOutput(this, 'FilesBucketName', { value: this.files.bucket.bucketName });
    new CfnOutput(this, 'ResultStoreClusterArn', { value: this.resultStore.cluster.clusterArn });
    new CfnOutput(this, 'ResultStoreSecretArn', { value: this.resultStore.cluster.secret!.secretArn });
  }

  /**
   * Lets another service enqueue tasks on a queue with a plain `SendMessage`, e.g.
   * `platform.grantSendTasks(apiFunction, 'billing')` in the producer's own stack, and
   * create the one-time schedules of ETAs beyond 15 minutes (give it `longDelays.environment()`),
   * and put payloads over 256 KiB in the files bucket for the message to refer to.
   */
  grantSendTasks(grantee: IGrantable & IConstruct, queue: QueueName) {
    this.longDelays.grantScheduling(grantee);
    this.files.grantPayloads(grantee, 'producer');
    return this.taskQueues[queue].grantSendMessages(grantee);
  }

  /**
   * Lets another service read task results (`AsyncResult.get()`, `status()`): the result
   * store through the Data API, and the results too large for a row. Give it
   * `resultsEnvironment()`.
   */
  grantReadResults(grantee: IGrantable & IConstruct) {
    this.resultStore.grantDataApiAccess(grantee);
    this.files.grantResultOverflowRead(grantee);
  }

  /** What a service reading results needs in its environment. */
  resultsEnvironment(): Record<string, string> {
    return { ...this.resultStore.environment(), RESULTS_BUCKET: this.files.bucket.bucketName };
  }
}

function pascal(text: string): string {
  return text.replace(/(^|-)([a-z])/g, (_m, _dash, letter: string) => letter.toUpperCase());
}
