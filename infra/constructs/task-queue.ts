import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDefinition, QueueSettings } from '../../shared/catalogue/index.ts';
import { sqsLimits } from '../../shared/catalogue/index.ts';
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

/**
 * A task category: its queue and dead-letter queue (SQS-managed encryption, HTTPS only,
 * 1 MiB messages), its consumer with a partial-batch event source, and its alarms.
 * Props are validated at synth, every problem reported at once.
 */
export class TaskQueue extends Construct {
  readonly definition: QueueDefinition;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly consumer: TaskFunction;
  /** The consumer's event source mapping, which `taskq control pause|resume` disables and enables. */
  readonly eventSourceMappingArn: string;
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    const { queue: definition, settings, stage, removalPolicy } = props;
    this.definition = definition;
    this.node.addValidation({ validate: () => taskQueueErrors(props) });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: physicalQueueName(stage, definition.name, true),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(settings.deadLetterRetentionSeconds),
      maxMessageSizeBytes: settings.maximumMessageBytes,
      removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      queueName: physicalQueueName(stage, definition.name),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(settings.retentionSeconds),
      maxMessageSizeBytes: settings.maximumMessageBytes,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
      removalPolicy,
    });

    this.consumer = new TaskFunction(this, 'Consumer', {
      entry: `functions/consumer-${definition.name}.ts`,
      description: `Consumer of the ${definition.name} queue: ${definition.description}`,
      functionName: `${stage}-consumer-${definition.name}`,
      timeout: Duration.seconds(definition.timeoutSeconds),
      memorySize: definition.memoryMb,
      removalPolicy,
      environment: {
        STAGE: stage,
        [`QUEUE_URL_${definition.name.toUpperCase()}`]: this.queue.queueUrl,
        [`DLQ_URL_${definition.name.toUpperCase()}`]: this.deadLetterQueue.queueUrl,
        ...props.environment,
      },
    });
    const eventSource = new SqsEventSource(this.queue, {
      batchSize: definition.batchSize,
      ...(definition.batchingWindowSeconds > 0 ? { maxBatchingWindow: Duration.seconds(definition.batchingWindowSeconds) } : {}),
      maxConcurrency: definition.maxConcurrency,
      reportBatchItemFailures: true,
    });
    this.consumer.addEventSource(eventSource);
    this.eventSourceMappingArn = eventSource.eventSourceMappingArn;
    this.deadLetterQueue.grantSendMessages(this.consumer);

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
      alarm('DeadLettersAlarm', this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), 0,
        `Messages in ${this.deadLetterQueue.queueName}: failed tasks wait for a redrive (taskq dlq list ${definition.name})`),
      alarm('BacklogAlarm', this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }), definition.oldestMessageAlarmSeconds,
        `The oldest message on ${definition.name} is older than ${definition.oldestMessageAlarmSeconds} s: the consumer is falling behind`),
      alarm('ConsumerErrorsAlarm', this.consumer.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 0,
        `The ${definition.name} consumer failed whole invocations: its messages return after the visibility timeout`),
    ];
  }

  /** Lets another service enqueue onto this queue with a plain `SendMessage`. */
  grantSendMessages(grantee: IGrantable) {
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
  if (queue.maxConcurrency < 2 || queue.maxConcurrency > 1000) errors.push(`${queue.name}: MaximumConcurrency must be 2–1000`);
  return errors;
}
