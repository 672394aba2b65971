import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SetQueueAttributesCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import {
  deadLetterQueueAttributes,
  queueNames,
  settingsOfQueue,
  sourceQueueAttributes,
  type QueueName,
} from '../catalogue/index.ts';
import { physicalQueueName } from '../config.ts';

export interface ProvisionedQueue {
  readonly name: QueueName;
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

/**
 * Creates every catalogue queue and its dead-letter queue on an SQS endpoint, with the
 * attributes the CDK stack gives them (both derive them from the catalogue). Idempotent:
 * an existing queue gets its attributes set again.
 */
export async function provisionQueues(sqs: SQSClient, stage: string): Promise<Record<QueueName, ProvisionedQueue>> {
  const entries = await Promise.all(
    queueNames.map(async (name) => {
      const settings = settingsOfQueue(name);
      const deadLetterUrl = await ensureQueue(sqs, physicalQueueName(stage, name, true), deadLetterQueueAttributes(settings));
      const deadLetterArn = await queueArn(sqs, deadLetterUrl);
      const url = await ensureQueue(sqs, physicalQueueName(stage, name), sourceQueueAttributes(settings, deadLetterArn));
      return [name, { name, url, arn: await queueArn(sqs, url), deadLetterUrl, deadLetterArn }] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<QueueName, ProvisionedQueue>;
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
