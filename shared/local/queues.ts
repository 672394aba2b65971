import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SetQueueAttributesCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import {
  deadLetterQueueAttributes,
  laneName,
  laneVariable,
  queueNames,
  settingsOfQueue,
  sourceQueueAttributes,
  type LaneName,
  type QueueName,
} from '../catalogue/index.ts';
import { physicalQueueName } from '../config.ts';

/** One lane's queue and dead-letter queue. */
export interface ProvisionedLane {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

/** A category: its normal lane, and its high-priority lane beside it. */
export interface ProvisionedQueue extends ProvisionedLane {
  readonly name: QueueName;
  readonly highPriority: ProvisionedLane;
}

/**
 * Creates every catalogue queue's two lanes, each with its dead-letter queue, on an SQS
 * endpoint, with the attributes the CDK stack gives them (both derive them from the
 * catalogue). Idempotent: an existing queue gets its attributes set again.
 */
export async function provisionQueues(sqs: SQSClient, stage: string): Promise<Record<QueueName, ProvisionedQueue>> {
  const entries = await Promise.all(
    queueNames.map(async (name) => {
      const [normal, highPriority] = await Promise.all([provisionLane(sqs, stage, name, laneName(name)), provisionLane(sqs, stage, name, laneName(name, 'high'))]);
      return [name, { name, ...normal, highPriority }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, ProvisionedQueue>;
}

async function provisionLane(sqs: SQSClient, stage: string, queue: QueueName, lane: LaneName): Promise<ProvisionedLane> {
  const settings = settingsOfQueue(queue);
  const deadLetterUrl = await ensureQueue(sqs, physicalQueueName(stage, lane, true), deadLetterQueueAttributes(settings));
  const deadLetterArn = await queueArn(sqs, deadLetterUrl);
  const url = await ensureQueue(sqs, physicalQueueName(stage, lane), sourceQueueAttributes(settings, deadLetterArn));
  return { url, arn: await queueArn(sqs, url), deadLetterUrl, deadLetterArn };
}

/** The `QUEUE_URL_<LANE>` and `DLQ_URL_<LANE>` settings of provisioned queues, as the stack gives its functions. */
export function laneEnvironment(provisioned: Readonly<Record<string, ProvisionedQueue>>): Record<string, string> {
  return Object.fromEntries(Object.values(provisioned).flatMap((queue) => [
    [laneVariable('QUEUE_URL', laneName(queue.name)), queue.url],
    [laneVariable('DLQ_URL', laneName(queue.name)), queue.deadLetterUrl],
    [laneVariable('QUEUE_URL', laneName(queue.name, 'high')), queue.highPriority.url],
    [laneVariable('DLQ_URL', laneName(queue.name, 'high')), queue.highPriority.deadLetterUrl],
  ]));
}

async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error(`no URL returned for queue ${name}`);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  return QueueUrl;
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`no ARN for queue ${url}`);
  return arn;
}

/** Sends to a queue named by its ARN, as a Scheduler or event target names it. */
export async function sendToQueueArn(sqs: SQSClient, arn: string, body: string, extra: { MessageGroupId?: string; MessageAttributes?: Record<string, MessageAttributeValue> }): Promise<void> {
  const queue = /^arn:aws[a-z-]*:sqs:[^:]*:[^:]*:(.+)$/.exec(arn)?.[1];
  if (!queue) throw new Error('the local cloud invokes SQS queue targets only');
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, ...extra }));
}
