import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Priority, QueueDefinition, QueueSettings } from '../../shared/catalogue/index.ts';
import { laneBatchingWindow, laneConcurrency, laneName, laneVariable, sqsLimits } from '../../shared/catalogue/index.ts';
import { physicalQueueName } from '../../shared/config.ts';
import { TaskFunction } from './bundling.ts';

export interface TaskQueueProps {
  readonly stage: string;
  readonly removalPolicy: RemovalPolicy;
  readonly queue: QueueDefinition;
  readonly settings: QueueSettings;
  /** The largest retry budget (`maxRetries + 1`) of the tasks on this queue. */
  readonly largestRetryBudget: number;
  readonly alarmTopic: ITopic;
  readonly environment?: Record<string, string>;
}

/** One lane of a category: its queue, its dead-letter queue, and the event source mapping that feeds the consumer from it. */
export interface TaskLane {
  readonly priority: Priority;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  /** The mapping `taskq control pause|resume` disables and enables. */
  readonly eventSourceMappingArn: string;
}

/**
 * A task category: two lanes, its queue and a high-priority queue beside it, each with its
 * dead-letter queue (SQS-managed encryption, HTTPS only, 1 MiB messages) and its own
 * partial-batch event source on the one consumer, the high lane's with the larger
 * concurrency; and its alarms. Props are validated at synth, every problem reported at once.
 */
export class TaskQueue extends Construct {
  readonly definition: QueueDefinition;
  /** The normal lane's queue and dead-letter queue. */
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly consumer: TaskFunction;
  /** The normal lane's event source mapping. */
  readonly eventSourceMappingArn: string;
  readonly highPriority: TaskLane;
  /** Both lanes, the normal one first. */
  readonly lanes: readonly TaskLane[];
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    const { queue: definition, settings, stage, removalPolicy } = props;
    this.definition = definition;
    this.node.addValidation({ validate: () => taskQueueErrors(props) });

    // The normal lane keeps the ids it always had, so a stack deployed before the lanes keeps its queues.
    const queues = (priority: Priority) => {
      const lane = laneName(definition.name, priority);
      const prefix = priority === 'high' ? 'HighPriority' : '';
      const deadLetterQueue = new Queue(this, `${prefix}DeadLetterQueue`, {
        queueName: physicalQueueName(stage, lane, true),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.seconds(settings.deadLetterRetentionSeconds),
        maxMessageSizeBytes: settings.maximumMessageBytes,
        removalPolicy,
      });
      const queue = new Queue(this, `${prefix}Queue`, {
        queueName: physicalQueueName(stage, lane),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
        retentionPeriod: Duration.seconds(settings.retentionSeconds),
        maxMessageSizeBytes: settings.maximumMessageBytes,
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
        removalPolicy,
      });
      return { lane, queue, deadLetterQueue };
    };
    const normal = queues('normal');
    const high = queues('high');
    this.queue = normal.queue;
    this.deadLetterQueue = normal.deadLetterQueue;

    this.consumer = new TaskFunction(this, 'Consumer', {
      entry: `functions/consumer-${definition.name}.ts`,
      description: `Consumer of the ${definition.name} queue: ${definition.description}`,
      functionName: `${stage}-consumer-${definition.name}`,
      timeout: Duration.seconds(definition.timeoutSeconds),
      memorySize: definition.memoryMb,
      removalPolicy,
      environment: {
        STAGE: stage,
        ...Object.fromEntries([normal, high].flatMap(({ lane, queue, deadLetterQueue }) => [
          [laneVariable('QUEUE_URL', lane), queue.queueUrl],
          [laneVariable('DLQ_URL', lane), deadLetterQueue.queueUrl],
        ])),
        ...props.environment,
      },
    });
    const feed = (priority: Priority, { queue, deadLetterQueue }: { queue: Queue; deadLetterQueue: Queue }): TaskLane => {
      const eventSource = new SqsEventSource(queue, {
        batchSize: definition.batchSize,
        ...(laneBatchingWindow(definition, priority) > 0 ? { maxBatchingWindow: Duration.seconds(laneBatchingWindow(definition, priority)) } : {}),
        maxConcurrency: laneConcurrency(definition, priority),
        reportBatchItemFailures: true,
      });
      this.consumer.addEventSource(eventSource);
      deadLetterQueue.grantSendMessages(this.consumer);
      return { priority, queue, deadLetterQueue, eventSourceMappingArn: eventSource.eventSourceMappingArn };
    };
    const normalLane = feed('normal', normal);
    this.highPriority = feed('high', high);
    this.lanes = [normalLane, this.highPriority];
    this.eventSourceMappingArn = normalLane.eventSourceMappingArn;

    const action = new SnsAction(props.alarmTopic);
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      return created;
    };
    this.alarms = [
      ...this.lanes.flatMap(({ priority, queue, deadLetterQueue }) => {
        const prefix = priority === 'high' ? 'HighPriority' : '';
        const lane = priority === 'high' ? `${definition.name}'s high-priority lane` : definition.name;
        return [
          alarm(`${prefix}DeadLettersAlarm`, deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 0,
            `Messages in ${deadLetterQueue.queueName}: failed tasks wait for a redrive (taskq dlq list ${definition.name})`),
          alarm(`${prefix}BacklogAlarm`, queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }), definition.oldestMessageAlarmSeconds,
            `The oldest message on ${lane} is older than ${definition.oldestMessageAlarmSeconds} s: the consumer is falling behind`),
        ];
      }),
      alarm('ConsumerErrorsAlarm', this.consumer.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 0,
        `The ${definition.name} consumer failed whole invocations: its messages return after the visibility timeout`),
    ];
  }

  /** Lets another service enqueue onto this queue, either lane, with a plain `SendMessage`. */
  grantSendMessages(grantee: IGrantable) {
    this.highPriority.queue.grantSendMessages(grantee);
    return this.queue.grantSendMessages(grantee);
  }
}

/** Every rule a task queue must satisfy; empty when it does. */
export function taskQueueErrors(props: Pick<TaskQueueProps, 'queue' | 'settings' | 'largestRetryBudget'>): string[] {
  const { queue, settings, largestRetryBudget } = props;
  const errors: string[] = [];
  if (settings.visibilityTimeoutSeconds < 6 * queue.timeoutSeconds) errors.push(`${queue.name}: visibility timeout must be at least 6 × the function timeout`);
  if (settings.visibilityTimeoutSeconds > sqsLimits.maxVisibilityTimeoutSeconds) errors.push(`${queue.name}: visibility timeout above SQS's 12 h`);
  if (settings.maxReceiveCount < 5 || settings.maxReceiveCount <= largestRetryBudget) errors.push(`${queue.name}: maxReceiveCount must be ≥ 5 and above the largest retry budget (${largestRetryBudget})`);
  if (settings.deadLetterRetentionSeconds <= settings.retentionSeconds) errors.push(`${queue.name}: the DLQ must keep messages longer than its source`);
  if (settings.maximumMessageBytes !== sqsLimits.maxMessageBytes) errors.push(`${queue.name}: MaximumMessageSize must be 1 MiB`);
  for (const priority of ['normal', 'high'] as const) {
    const concurrency = laneConcurrency(queue, priority);
    if (concurrency < 2 || concurrency > 1000) errors.push(`${queue.name}: the ${priority} lane's MaximumConcurrency must be 2–1000`);
  }
  return errors;
}
