import { describe, expect, it } from 'vitest';
import { callerOf, describeCall, type WireRequest } from './stand-ins/requests.ts';

const authorization = (service: string) => `AWS4-HMAC-SHA256 Credential=DefaultTasksConsumer/20261202/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;
const request = (service: string, method: string, url: string, body: unknown = '', headers: Record<string, string> = {}): WireRequest => ({
  method,
  url,
  headers: { authorization: authorization(service), ...headers },
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});
const lookups = { account: '000000000000', secretArn: (id: string) => (id === 'dev/datacleanup/openai-api-key' ? 'arn:aws:secretsmanager:us-east-1:000000000000:secret:dev/datacleanup/openai-api-key-AbC123' : undefined) };
const queueUrl = 'http://127.0.0.1:4566/000000000000/dev-default';
const sqsJson = (operation: string, body: unknown) => request('sqs', 'POST', '/', body, { 'x-amz-target': `AmazonSQS.${operation}` });

describe('AWS requests mapped to IAM actions and resources', () => {
  it('names the caller from the SigV4 credential scope', () => {
    expect(callerOf(sqsJson('SendMessage', {}))).toEqual({ accessKeyId: 'DefaultTasksConsumer', region: 'us-east-1', service: 'sqs' });
    expect(callerOf({ method: 'GET', url: '/b/k?X-Amz-Credential=DataTasksConsumer%2F20261202%2Fus-east-1%2Fs3%2Faws4_request', headers: {}, body: Buffer.alloc(0) })?.accessKeyId).toBe('DataTasksConsumer');
    expect(callerOf({ method: 'GET', url: '/', headers: {}, body: Buffer.alloc(0) })).toBeUndefined();
  });

  it.each<[string, WireRequest, { action: string; resource: string }[]]>([
    ['SQS JSON SendMessage', sqsJson('SendMessage', { QueueUrl: queueUrl }), [{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:dev-default' }]],
    ['SQS batch calls need their single form', sqsJson('DeleteMessageBatch', { QueueUrl: queueUrl }), [{ action: 'sqs:DeleteMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:dev-default' }]],
    ['SQS query protocol', request('sqs', 'POST', '/', `Action=ChangeMessageVisibilityBatch&QueueUrl=${encodeURIComponent(queueUrl)}`, { 'content-type': 'application/x-www-form-urlencoded' }), [{ action: 'sqs:ChangeMessageVisibility', resource: 'arn:aws:sqs:us-east-1:000000000000:dev-default' }]],
    ['S3 GetObject', request('s3', 'GET', '/files/uploads/7/a%20b.csv?x-id=GetObject'), [{ action: 's3:GetObject', resource: 'arn:aws:s3:::files/uploads/7/a b.csv' }]],
    ['S3 HeadObject', request('s3', 'HEAD', '/files/k'), [{ action: 's3:GetObject', resource: 'arn:aws:s3:::files/k' }]],
    ['S3 ListObjectsV2', request('s3', 'GET', '/files?list-type=2&prefix=tmp%2F'), [{ action: 's3:ListBucket', resource: 'arn:aws:s3:::files' }]],
    ['S3 PutObject', request('s3', 'PUT', '/files/exports/7/e.csv?x-id=PutObject'), [{ action: 's3:PutObject', resource: 'arn:aws:s3:::files/exports/7/e.csv' }]],
    ['S3 multipart start', request('s3', 'POST', '/files/exports/big.csv?uploads'), [{ action: 's3:PutObject', resource: 'arn:aws:s3:::files/exports/big.csv' }]],
    ['S3 multipart part', request('s3', 'PUT', '/files/exports/big.csv?partNumber=2&uploadId=u1'), [{ action: 's3:PutObject', resource: 'arn:aws:s3:::files/exports/big.csv' }]],
    ['S3 multipart abort', request('s3', 'DELETE', '/files/exports/big.csv?uploadId=u1'), [{ action: 's3:AbortMultipartUpload', resource: 'arn:aws:s3:::files/exports/big.csv' }]],
    ['S3 DeleteObject', request('s3', 'DELETE', '/files/tmp/a'), [{ action: 's3:DeleteObject', resource: 'arn:aws:s3:::files/tmp/a' }]],
    ['S3 DeleteObjects needs DeleteObject per key', request('s3', 'POST', '/files?delete', '<Delete><Object><Key>tmp/a</Key></Object><Object><Key>tmp/b&amp;c</Key></Object><Quiet>true</Quiet></Delete>'), [
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::files/tmp/a' },
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::files/tmp/b&c' },
    ]],
    ['S3 CopyObject reads its source', request('s3', 'PUT', '/files/b', '', { 'x-amz-copy-source': '/files/a' }), [{ action: 's3:PutObject', resource: 'arn:aws:s3:::files/b' }, { action: 's3:GetObject', resource: 'arn:aws:s3:::files/a' }]],
    ['Secrets Manager by name resolves to the full ARN', request('secretsmanager', 'POST', '/', { SecretId: 'dev/datacleanup/openai-api-key' }, { 'x-amz-target': 'secretsmanager.GetSecretValue' }), [{ action: 'secretsmanager:GetSecretValue', resource: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:dev/datacleanup/openai-api-key-AbC123' }]],
    ['Data API statements need the cluster and its secret', request('rds-data', 'POST', '/Execute', { resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:tasks', secretArn: 'arn:s', sql: 'select 1' }), [
      { action: 'rds-data:ExecuteStatement', resource: 'arn:aws:rds:us-east-1:000000000000:cluster:tasks' },
      { action: 'secretsmanager:GetSecretValue', resource: 'arn:s' },
    ]],
    ['Data API commit', request('rds-data', 'POST', '/CommitTransaction', { resourceArn: 'arn:c', secretArn: 'arn:s', transactionId: 't' }), [{ action: 'rds-data:CommitTransaction', resource: 'arn:c' }, { action: 'secretsmanager:GetSecretValue', resource: 'arn:s' }]],
  ])('%s', (_case, wire, expected) => {
    const described = describeCall(wire, callerOf(wire)!, lookups);
    expect(described?.authorizations.map(({ action, resource }) => ({ action, resource }))).toEqual(expected);
  });

  it('Scheduler CreateSchedule needs the schedule and iam:PassRole on its target role, passed to Scheduler', () => {
    const wire = request('scheduler', 'POST', '/schedules/task-abc', { GroupName: 'dev-task-etas', Target: { RoleArn: 'arn:aws:iam::000000000000:role/eta' } });
    expect(describeCall(wire, callerOf(wire)!, lookups)?.authorizations).toEqual([
      { action: 'scheduler:CreateSchedule', resource: 'arn:aws:scheduler:us-east-1:000000000000:schedule/dev-task-etas/task-abc' },
      { action: 'iam:PassRole', resource: 'arn:aws:iam::000000000000:role/eta', context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    ]);
  });

  it('has no mapping for a service with no stand-in', () => {
    const wire = request('sns', 'POST', '/', 'Action=Publish');
    expect(describeCall(wire, callerOf(wire)!, lookups)).toBeUndefined();
  });
});
