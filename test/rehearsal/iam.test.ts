import { describe, expect, it } from 'vitest';
import { evaluate, trusts, type Decision, type Statement } from './iam.ts';

const queue = 'arn:aws:sqs:us-east-1:000000000000:dev-default';
const bucket = 'arn:aws:s3:::dev-files';

/** A role's statements, as CDK writes a consumer's: the queue it reads, the queues it sends to, a bucket's objects. */
const consumer: Statement[] = [
  { Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'], Resource: queue },
  { Effect: 'Allow', Action: 'sqs:Send*', Resource: 'arn:aws:sqs:us-east-1:000000000000:dev-*' },
  { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${bucket}/*` },
  { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket },
  { Effect: 'Deny', Action: 's3:PutObject', Resource: `${bucket}/locked/*` },
  { Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::000000000000:role/*', Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } },
  { Effect: 'Allow', NotAction: 'sqs:*', Resource: 'arn:aws:logs:*' },
];

describe('IAM policy evaluation', () => {
  it.each<[string, string, string, Decision, Record<string, string>?]>([
    ['an action listed for the resource', 'sqs:ReceiveMessage', queue, 'allow'],
    ['action names ignore case', 'SQS:receivemessage', queue, 'allow'],
    ['an action wildcard', 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:000000000000:dev-ai', 'allow'],
    ['a resource wildcard that does not reach another stage', 'sqs:SendMessage', 'arn:aws:sqs:us-east-1:000000000000:prod-ai', 'implicit-deny'],
    ['an action granted on another resource only', 'sqs:DeleteMessage', 'arn:aws:sqs:us-east-1:000000000000:dev-ai', 'implicit-deny'],
    ['an action granted nowhere', 'sqs:PurgeQueue', queue, 'implicit-deny'],
    ['resource ARNs are case-sensitive', 'sqs:ReceiveMessage', queue.toUpperCase(), 'implicit-deny'],
    ['an object under the bucket', 's3:GetObject', `${bucket}/uploads/7/a.csv`, 'allow'],
    ['the bucket itself is not one of its objects', 's3:GetObject', bucket, 'implicit-deny'],
    ['listing needs the bucket ARN', 's3:ListBucket', `${bucket}/uploads`, 'implicit-deny'],
    ['an explicit Deny wins over an Allow', 's3:PutObject', `${bucket}/locked/a.csv`, 'explicit-deny'],
    ['the Deny leaves other actions alone', 's3:GetObject', `${bucket}/locked/a.csv`, 'allow'],
    ['a condition that holds', 'iam:PassRole', 'arn:aws:iam::000000000000:role/eta', 'allow', { 'iam:PassedToService': 'scheduler.amazonaws.com' }],
    ['a condition on another value', 'iam:PassRole', 'arn:aws:iam::000000000000:role/eta', 'implicit-deny', { 'iam:PassedToService': 'lambda.amazonaws.com' }],
    ['a condition key the request lacks', 'iam:PassRole', 'arn:aws:iam::000000000000:role/eta', 'implicit-deny'],
    ['NotAction allows what it does not name', 'logs:PutLogEvents', 'arn:aws:logs:us-east-1', 'allow'],
    ['NotAction excludes what it names', 'sqs:SendMessage', 'arn:aws:logs:us-east-1', 'implicit-deny'],
  ])('%s: %s on %s → %s', (_case, action, resource, expected, context) => {
    expect(evaluate(consumer, { action, resource, ...(context ? { context } : {}) })).toBe(expected);
  });

  it('refuses a condition operator it does not know, rather than guessing', () => {
    expect(() => evaluate([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }], { action: 's3:GetObject', resource: bucket })).toThrow(/IpAddress/);
  });
});

describe('trust policy evaluation', () => {
  const group = 'arn:aws:scheduler:us-east-1:000000000000:schedule-group/dev-task-etas';
  const trust = (sourceArn: string): Statement[] => [{
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Principal: { Service: 'scheduler.amazonaws.com' },
    Condition: { StringEquals: { 'aws:SourceAccount': '000000000000' }, ArnLike: { 'aws:SourceArn': sourceArn } },
  }];
  const context = { 'aws:SourceAccount': '000000000000', 'aws:SourceArn': group };

  it.each<[string, Statement[], string, boolean]>([
    ['the schedule group ARN, as Scheduler sets aws:SourceArn', trust(group), 'scheduler.amazonaws.com', true],
    ['a pattern of schedule ARNs never matches the group ARN Scheduler sends', trust('arn:aws:scheduler:us-east-1:000000000000:schedule/dev-task-etas/*'), 'scheduler.amazonaws.com', false],
    ['another service principal', trust(group), 'lambda.amazonaws.com', false],
  ])('%s → %s', (_case, policy, service, expected) => {
    expect(trusts(policy, service, context)).toBe(expected);
  });
});
