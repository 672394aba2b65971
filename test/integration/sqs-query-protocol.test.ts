import { createHash, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
// @aws-sdk/client-sqs 3.430: the last generation that speaks the query protocol.
import * as query from 'sqs-query-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEnvelope } from '../../shared/envelope/envelope.ts';
import { databaseKind } from '../support/database.ts';
import { startLocalCloudProcess } from '../support/local-cloud.ts';
import { waitFor } from '../support/wait.ts';

const region = 'us-east-1';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const namespace = 'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"';
/** XML's special characters, both quotes, a CR, non-ASCII, and text that looks like entities. */
const awkwardBody = `<task a="1" b='2'>R&D — naïve café 中文 ✓ \r\n&amp; &#xD; ]]></task>`;

describe(`the local cloud's SQS port speaks the query protocol as well as JSON (${databaseKind})`, () => {
  let cloud: Awaited<ReturnType<typeof startLocalCloudProcess>>;
  let legacy: query.SQSClient;
  let current: SQSClient;
  const contentTypes: string[] = [];
  const newQueue = async (attributes: Record<string, string> = {}) =>
    (await legacy.send(new query.CreateQueueCommand({ QueueName: `qp-${randomUUID().slice(0, 8)}`, Attributes: attributes }))).QueueUrl!;
  const raw = (path: string, form?: Record<string, string>) =>
    fetch(`${cloud.endpoint}${path}`, form ? { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) } : {});

  beforeAll(async () => {
    cloud = await startLocalCloudProcess();
    legacy = new query.SQSClient({ endpoint: cloud.endpoint, region, credentials });
    legacy.middlewareStack.add(
      (next) => async (args) => {
        contentTypes.push((args.request as { headers: Record<string, string> }).headers['content-type']!);
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    current = new SQSClient({ endpoint: cloud.endpoint, region, credentials });
  });
  afterAll(async () => {
    legacy?.destroy();
    current?.destroy();
    await cloud?.cleanUp();
  });

  it('says so in the ready line, and the old client really sends form-encoded requests', async () => {
    expect(cloud.ready).toContain('SQS over the JSON and query protocols');
    const url = await newQueue();
    expect(url).toMatch(new RegExp(`^http://[^/]+:${new URL(cloud.endpoint).port}/000000000000/qp-`));
    expect(contentTypes.at(-1)).toBe('application/x-www-form-urlencoded');
  });

  it('sends with message attributes, receives with attributes, changes visibility and deletes, body intact', async () => {
    const QueueUrl = await newQueue({ VisibilityTimeout: '30' });
    const sent = await legacy.send(
      new query.SendMessageCommand({
        QueueUrl,
        MessageBody: awkwardBody,
        MessageAttributes: { tenant: { DataType: 'String', StringValue: 'acme & <co>' }, attempt: { DataType: 'Number', StringValue: '2' } },
      }),
    );
    expect(sent.MD5OfMessageBody).toBe(md5(awkwardBody));

    const { Messages } = await legacy.send(new query.ReceiveMessageCommand({ QueueUrl, AttributeNames: ['All'], MessageAttributeNames: ['All'], MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30 }));
    expect(Messages).toHaveLength(1);
    const [message] = Messages!;
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: awkwardBody, MD5OfBody: md5(awkwardBody), MD5OfMessageAttributes: sent.MD5OfMessageAttributes });
    expect(message!.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d+$/) });
    expect(message!.MessageAttributes).toEqual({ tenant: { DataType: 'String', StringValue: 'acme & <co>' }, attempt: { DataType: 'Number', StringValue: '2' } });

    await legacy.send(new query.ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message!.ReceiptHandle, VisibilityTimeout: 0 }));
    const again = await legacy.send(new query.ReceiveMessageCommand({ QueueUrl, AttributeNames: ['All'], WaitTimeSeconds: 1 }));
    expect(again.Messages![0]).toMatchObject({ Body: awkwardBody, Attributes: { ApproximateReceiveCount: '2' } });
    await legacy.send(new query.DeleteMessageCommand({ QueueUrl, ReceiptHandle: again.Messages![0]!.ReceiptHandle }));
    const { Attributes } = await legacy.send(new query.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'VisibilityTimeout'] }));
    expect(Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0', VisibilityTimeout: '30' });
  });

  it('sends, changes visibility and deletes in batches, with the failures per entry', async () => {
    const QueueUrl = await newQueue();
    const batch = await legacy.send(
      new query.SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'plain', MessageBody: 'one & two' },
          { Id: 'delayed', MessageBody: 'later', DelaySeconds: 1, MessageAttributes: { kind: { DataType: 'String', StringValue: 'slow' } } },
          { Id: 'bad', MessageBody: 'nul \u0000 inside' },
        ],
      }),
    );
    expect(batch.Successful?.map((entry) => [entry.Id, entry.MD5OfMessageBody])).toEqual([['plain', md5('one & two')], ['delayed', md5('later')]]);
    expect(batch.Failed).toEqual([expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' })]);

    const received = await waitFor(async () => {
      const { Messages = [] } = await legacy.send(new query.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['kind'], WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
      return Messages.length > 0 ? Messages : undefined;
    }, 10_000, 'the first batch message');
    const rest = await waitFor(async () => {
      const { Messages = [] } = await legacy.send(new query.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
      return received.length + Messages.length >= 2 ? Messages : undefined;
    }, 10_000, 'the delayed batch message');
    const all = [...received, ...rest];
    expect(all.map((m) => m.Body).sort()).toEqual(['later', 'one & two']);
    expect(all.find((m) => m.Body === 'later')!.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'slow' } });

    const visibility = await legacy.send(
      new query.ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries: [...all.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 120 })), { Id: 'gone', ReceiptHandle: 'not-a-handle', VisibilityTimeout: 1 }] }),
    );
    expect(visibility.Successful?.map((entry) => entry.Id)).toEqual(['m0', 'm1']);
    expect(visibility.Failed?.map((entry) => entry.Id)).toEqual(['gone']);
    const deleted = await legacy.send(new query.DeleteMessageBatchCommand({ QueueUrl, Entries: all.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle })) }));
    expect(deleted).toMatchObject({ Successful: [{ Id: 'm0' }, { Id: 'm1' }] });
    expect(deleted.Failed ?? []).toEqual([]);
  });

  it('gets, lists, sets, purges and deletes queues', async () => {
    const QueueUrl = await newQueue({ DelaySeconds: '0', MessageRetentionPeriod: '3600' });
    const QueueName = QueueUrl.split('/').at(-1)!;
    expect((await legacy.send(new query.GetQueueUrlCommand({ QueueName }))).QueueUrl).toBe(QueueUrl);
    expect((await legacy.send(new query.ListQueuesCommand({ QueueNamePrefix: QueueName }))).QueueUrls).toEqual([QueueUrl]);
    const settings: Record<string, string> = { VisibilityTimeout: '45', ReceiveMessageWaitTimeSeconds: '1' };
    await legacy.send(new query.SetQueueAttributesCommand({ QueueUrl, Attributes: settings }));
    const { Attributes } = await legacy.send(new query.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({ VisibilityTimeout: '45', ReceiveMessageWaitTimeSeconds: '1', MessageRetentionPeriod: '3600', QueueArn: `arn:aws:sqs:us-east-1:000000000000:${QueueName}` });

    await legacy.send(new query.SendMessageCommand({ QueueUrl, MessageBody: 'to be purged' }));
    await legacy.send(new query.PurgeQueueCommand({ QueueUrl }));
    expect((await legacy.send(new query.ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }))).Messages).toBeUndefined();
    await legacy.send(new query.DeleteQueueCommand({ QueueUrl }));
    const error = await legacy.send(new query.GetQueueUrlCommand({ QueueName })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
  });

  it('answers errors as the XML ErrorResponse with the query code, and with the status the emulator gave', async () => {
    const missing = await raw('/', { Action: 'GetQueueUrl', QueueName: 'no-such-queue', Version: '2012-11-05' });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toBe('text/xml');
    const xml = await missing.text();
    expect(xml).toContain(`<ErrorResponse ${namespace}>`);
    expect(xml).toMatch(/<Error><Type>Sender<\/Type><Code>AWS\.SimpleQueueService\.NonExistentQueue<\/Code><Message>The specified queue does not exist\.<\/Message>/);

    const QueueUrl = await newQueue();
    const error = await legacy.send(new query.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('MaxNumberOfMessages'), $metadata: { httpStatusCode: 400 } });
  });

  it('takes the queue from the request path, and GET requests with a query string', async () => {
    const QueueUrl = await newQueue();
    const path = new URL(QueueUrl).pathname;
    const sent = await raw(path, { Action: 'SendMessage', MessageBody: 'at the queue path', Version: '2012-11-05' });
    const sentXml = await sent.text();
    expect(sent.status).toBe(200);
    expect(sentXml).toContain(`<SendMessageResponse ${namespace}><SendMessageResult><MessageId>`);
    expect(sentXml).toContain(`<MD5OfMessageBody>${md5('at the queue path')}</MD5OfMessageBody>`);

    const received = await raw(`${path}?Action=ReceiveMessage&AttributeName.1=SentTimestamp&Version=2012-11-05`);
    const receivedXml = await received.text();
    expect(receivedXml).toMatch(/<ReceiveMessageResult><Message><MessageId>.+<\/MessageId><ReceiptHandle>.+<Body>at the queue path<\/Body><Attribute><Name>SentTimestamp<\/Name><Value>\d+<\/Value><\/Attribute><\/Message><\/ReceiveMessageResult>/);
    const deleted = await raw(path, { Action: 'DeleteMessage', ReceiptHandle: /<ReceiptHandle>(.+?)<\/ReceiptHandle>/.exec(receivedXml)![1]!, Version: '2012-11-05' });
    expect(await deleted.text()).toMatch(new RegExp(`^<\\?xml version="1.0" encoding="UTF-8"\\?><DeleteMessageResponse ${namespace}><ResponseMetadata><RequestId>[-0-9a-f]+</RequestId></ResponseMetadata></DeleteMessageResponse>$`));
  });

  it('interoperates with the JSON protocol both ways, attributes included', async () => {
    const QueueUrl = await newQueue();
    const attributes = { origin: { DataType: 'String', StringValue: 'query' } };
    await legacy.send(new query.SendMessageCommand({ QueueUrl, MessageBody: awkwardBody, MessageAttributes: attributes }));
    const viaJson = await current.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
    expect(viaJson.Messages![0]).toMatchObject({ Body: awkwardBody, MD5OfBody: md5(awkwardBody), MessageAttributes: attributes });
    await legacy.send(new query.DeleteMessageCommand({ QueueUrl, ReceiptHandle: viaJson.Messages![0]!.ReceiptHandle }));

    const fromJson = `${awkwardBody} from JSON`;
    const sent = await current.send(new SendMessageCommand({ QueueUrl, MessageBody: fromJson, MessageAttributes: { origin: { DataType: 'String', StringValue: 'json' } } }));
    const viaQuery = await legacy.send(new query.ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['origin'], WaitTimeSeconds: 1 }));
    expect(viaQuery.Messages![0]).toMatchObject({ MessageId: sent.MessageId, Body: fromJson, MD5OfMessageAttributes: sent.MD5OfMessageAttributes, MessageAttributes: { origin: { DataType: 'String', StringValue: 'json' } } });
    await current.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: viaQuery.Messages![0]!.ReceiptHandle }));
    expect((await current.send(new ReceiveMessageCommand({ QueueUrl }))).Messages).toBeUndefined();
  });

  it('gives an emoji body the same answer over both protocols', async () => {
    // fauxqs 2.4.1 rejects characters outside the BMP on either protocol (SQS accepts them); the front adds nothing of its own.
    const QueueUrl = await newQueue();
    const outcome = (sending: Promise<{ MD5OfMessageBody?: string }>) => sending.then((sent) => sent.MD5OfMessageBody, (error: Error) => error.name.replace(/^AWS\.SimpleQueueService\./, ''));
    const overQuery = await outcome(legacy.send(new query.SendMessageCommand({ QueueUrl, MessageBody: 'party 🎉' })));
    const overJson = await outcome(current.send(new SendMessageCommand({ QueueUrl, MessageBody: 'party 🎉' })));
    expect(overQuery).toBe(overJson);
    expect([md5('party 🎉'), 'InvalidMessageContents']).toContain(overQuery);
  });

  it('runs a task sent over the query protocol to SUCCESS', async () => {
    const task = newEnvelope('default.noop', { echo: 'sent by an old SDK <&>' });
    await legacy.send(new query.SendMessageCommand({ QueueUrl: cloud.queueUrl('default'), MessageBody: JSON.stringify(task) }));
    const done = await waitFor(async () => {
      const response = await fetch(`${cloud.dashboardUrl}/api/tasks/${task.id}`);
      const body = response.ok ? ((await response.json()) as { status: string; result: unknown }) : undefined;
      return body?.status === 'SUCCESS' ? body : undefined;
    }, 20_000, 'the task to succeed');
    expect(done.result).toEqual({ echo: 'sent by an old SDK <&>' });
  });

  it('passes S3 through unchanged: path style, streamed bodies, virtual-host style and presigned URLs', async () => {
    const s3 = new S3Client({ endpoint: cloud.endpoint, region, forcePathStyle: true, credentials });
    try {
      const Bucket = 'local-datacleanup-files';
      const Key = `qp/${randomUUID()}.csv`;
      const large = Buffer.alloc(3 * 1024 * 1024, 'a,b\n');
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: large, ContentType: 'text/csv' }));
      const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
      expect(object.ContentType).toBe('text/csv');
      expect(Buffer.from(await object.Body!.transformToByteArray()).equals(large)).toBe(true);

      const port = new URL(cloud.endpoint).port;
      const virtualHost = await new Promise<{ status: number; length: number }>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: `/${Key}`, method: 'HEAD', headers: { host: `${Bucket}.localhost:${port}` } }, (response) => {
          resolve({ status: response.statusCode!, length: Number(response.headers['content-length']) });
          response.resume();
        }).on('error', reject).end();
      });
      expect(virtualHost).toEqual({ status: 200, length: large.length });

      const signed = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: `${Key}.json`, ContentType: 'application/json' }), { expiresIn: 60 });
      expect((await fetch(signed, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"via":"presigned"}' })).status).toBe(200);
      const fetched = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: `${Key}.json` }), { expiresIn: 60 }));
      expect(await fetched.text()).toBe('{"via":"presigned"}');
    } finally {
      s3.destroy();
    }
  });
});

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}
