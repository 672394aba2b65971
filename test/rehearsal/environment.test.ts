import { describe, expect, it } from 'vitest';
import type { Template } from './assembly.ts';
import { localValues, resolve } from './environment.ts';

const template: Template = {
  Resources: {
    Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'dev-default' } },
    Files: { Type: 'AWS::S3::Bucket', Properties: {} },
    Key: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'dev/datacleanup/stripe-api-key' } },
    Admin: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    Attachment: { Type: 'AWS::SecretsManager::SecretTargetAttachment', Properties: { SecretId: { Ref: 'Admin' } } },
    Cluster: { Type: 'AWS::RDS::DBCluster', Properties: {} },
    Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'dev-consumer-default' } },
    Version: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Fn' } } },
  },
};
const values = localValues(template, {
  stackName: 'DataCleanupTasks-dev',
  queueUrl: (name) => `http://127.0.0.1:4566/000000000000/${name}`,
  clusterArn: 'arn:aws:rds:us-east-1:000000000000:cluster:tasks',
  clusterSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tasks-admin',
});

describe('template values resolved to local equivalents', () => {
  it.each<[string, unknown, unknown]>([
    ['a queue Ref is its URL', { Ref: 'Queue' }, 'http://127.0.0.1:4566/000000000000/dev-default'],
    ['a queue Arn', { 'Fn::GetAtt': ['Queue', 'Arn'] }, 'arn:aws:sqs:us-east-1:000000000000:dev-default'],
    ['GetAtt in its string form', { 'Fn::GetAtt': 'Queue.QueueName' }, 'dev-default'],
    ['a generated bucket name is lower case, stack and id first', { Ref: 'Files' }, expect.stringMatching(/^datacleanuptasks-dev-files-[0-9a-f]{12}$/)],
    ['the cluster ARN as CDK joins it', { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':cluster:', { Ref: 'Cluster' }]] }, 'arn:aws:rds:us-east-1:000000000000:cluster:tasks'],
    ["the attachment's secret is the stand-in's", { Ref: 'Attachment' }, 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tasks-admin'],
    ['a secret ARN carries a 6-character suffix', { Ref: 'Key' }, expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:dev\/datacleanup\/stripe-api-key-[0-9A-F]{6}$/)],
    // CDK's secretName: the ARN's resource part, split at '-' and the suffix dropped.
    ['Select and Split as CDK derives a secret name', { 'Fn::Join': ['-', [0, 1, 2].map((i) => ({ 'Fn::Select': [i, { 'Fn::Split': ['-', { 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'Key' }] }] }] }] }))] }, 'dev/datacleanup/stripe-api-key'],
    ['Sub with pseudo parameters and attributes', { 'Fn::Sub': 'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName}' }, 'arn:aws:sqs:us-east-1:000000000000:dev-default'],
    ['a version Ref is the qualified function ARN', { Ref: 'Version' }, 'arn:aws:lambda:us-east-1:000000000000:function:dev-consumer-default:1'],
    ['plain values and nested objects', { a: [1, { Ref: 'Queue' }] }, { a: [1, 'http://127.0.0.1:4566/000000000000/dev-default'] }],
  ])('%s', (_case, value, expected) => {
    expect(resolve(value, values)).toEqual(expected);
  });

  it('refuses what it cannot resolve, rather than passing it on', () => {
    expect(() => resolve({ 'Fn::ImportValue': 'x' }, values)).toThrow(/Fn::ImportValue/);
    expect(() => resolve({ 'Fn::GetAtt': ['Queue', 'Nope'] }, values)).toThrow(/Queue.Nope/);
  });
});
