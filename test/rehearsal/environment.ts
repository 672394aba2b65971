import { createHash } from 'node:crypto';
import type { Template } from './assembly.ts';

/** The account and Region the emulator's ARNs and queue URLs carry (fauxqs' default account). */
export const account = '000000000000';
export const region = 'us-east-1';

/** Where the stack's resources live on this machine; what CloudFormation would have made of each. */
export interface LocalPlacement {
  readonly stackName: string;
  /** A queue's URL from its name: the emulator's (through the recording front) or AWS's format. */
  readonly queueUrl: (queueName: string) => string;
  /** The cluster ARN the Data API stand-in answers for. */
  readonly clusterArn: string;
  /** The ARN of the secret the Data API stand-in takes with it (the cluster's admin secret). */
  readonly clusterSecretArn: string;
}

/** What `Ref` and `Fn::GetAtt` of each resource resolve to here. */
export interface LocalValues {
  ref(logicalId: string): string;
  attribute(logicalId: string, name: string): string;
}

/** A stable suffix, as CloudFormation appends to generated names (stable, so every run names alike). */
/** A stable UUID for a resource whose id Lambda generates. */
const uuidOf = (id: string) => createHash('sha256').update(id).digest('hex').replace(/^(.{8})(.{4})(.{3})(.{3})(.{12}).*/, '$1-$2-4$3-a$4-$5');
/** The stack's id, as `AWS::StackId` and DescribeStacks give it: stable, so every run names alike. */
export const stackIdOf = (stackName: string) => `arn:aws:cloudformation:${region}:${account}:stack/${stackName}/${uuidOf(stackName)}`;
const suffix = (id: string, length: number) => createHash('sha256').update(id).digest('hex').slice(0, length).toUpperCase();

/**
 * The template's resources as physical names and ARNs, in AWS's formats, with the
 * emulator's queue URLs and the Data API stand-in's cluster and secret.
 * Generated names follow CloudFormation's `<stack>-<logical id>-<random>` pattern:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-name.html
 */
export function localValues(template: Template, placement: LocalPlacement): LocalValues {
  const { stackName } = placement;
  const resourceOf = (id: string) => {
    const resource = template.Resources[id];
    if (!resource) throw new Error(`the template has no resource ${id}`);
    return resource;
  };
  const property = (id: string, name: string) => {
    const value = resourceOf(id).Properties?.[name];
    return value === undefined ? undefined : String(resolve(value, values));
  };
  const generated = (id: string, max = 64) => `${stackName}-${id}`.slice(0, max - 13) + `-${suffix(id, 12)}`;
  const attachedSecrets = new Set(Object.values(template.Resources)
    .filter((resource) => resource.Type === 'AWS::SecretsManager::SecretTargetAttachment')
    .map((resource) => (resource.Properties?.SecretId as { Ref?: string } | undefined)?.Ref));
  const clusterIdentifier = placement.clusterArn.replace(/^.*:cluster:/, '');

  const names: Record<string, (id: string) => string> = {
    'AWS::SQS::Queue': (id) => property(id, 'QueueName') ?? generated(id, 80),
    'AWS::S3::Bucket': (id) => property(id, 'BucketName') ?? generated(id, 63).toLowerCase(),
    'AWS::SecretsManager::Secret': (id) => property(id, 'Name') ?? generated(id),
    'AWS::Lambda::Function': (id) => property(id, 'FunctionName') ?? generated(id),
    'AWS::IAM::Role': (id) => property(id, 'RoleName') ?? generated(id),
    'AWS::Logs::LogGroup': (id) => property(id, 'LogGroupName') ?? generated(id, 512),
    'AWS::Scheduler::ScheduleGroup': (id) => property(id, 'Name') ?? generated(id),
    'AWS::Scheduler::Schedule': (id) => property(id, 'Name') ?? generated(id),
    'AWS::SNS::Topic': (id) => property(id, 'TopicName') ?? generated(id, 256),
    'AWS::RDS::DBCluster': () => clusterIdentifier,
  };
  const name = (id: string) => (names[resourceOf(id).Type] ?? ((other: string) => other))(id);
  const secretArn = (id: string) => (attachedSecrets.has(id) ? placement.clusterSecretArn : `arn:aws:secretsmanager:${region}:${account}:secret:${name(id)}-${suffix(id, 6)}`);
  const functionArn = (id: string) => `arn:aws:lambda:${region}:${account}:function:${name(id)}`;

  // What Ref and Fn::GetAtt return per type: the "Return values" section of each resource's reference page.
  const refs: Record<string, (id: string) => string> = {
    'AWS::SQS::Queue': (id) => placement.queueUrl(name(id)),
    'AWS::SecretsManager::Secret': secretArn,
    'AWS::SecretsManager::SecretTargetAttachment': (id) => String(resolve(resourceOf(id).Properties?.SecretId, values)),
    'AWS::Lambda::Version': (id) => `${functionArnOf(resolve(resourceOf(id).Properties?.FunctionName, values))}:1`,
    'AWS::SNS::Topic': (id) => `arn:aws:sns:${region}:${account}:${name(id)}`,
    // A mapping's Ref is its UUID, which the event-source-mapping ARN ends with.
    'AWS::Lambda::EventSourceMapping': (id) => uuidOf(id),
  };
  const arns: Record<string, (id: string) => string> = {
    'AWS::SQS::Queue': (id) => `arn:aws:sqs:${region}:${account}:${name(id)}`,
    'AWS::S3::Bucket': (id) => `arn:aws:s3:::${name(id)}`,
    'AWS::Lambda::Function': functionArn,
    'AWS::IAM::Role': (id) => `arn:aws:iam::${account}:role/${name(id)}`,
    'AWS::Logs::LogGroup': (id) => `arn:aws:logs:${region}:${account}:log-group:${name(id)}:*`,
    'AWS::Scheduler::ScheduleGroup': (id) => `arn:aws:scheduler:${region}:${account}:schedule-group/${name(id)}`,
    'AWS::RDS::DBCluster': () => placement.clusterArn,
  };
  const functionArnOf = (nameOrArn: unknown) => (String(nameOrArn).startsWith('arn:') ? String(nameOrArn) : `arn:aws:lambda:${region}:${account}:function:${String(nameOrArn)}`);

  const values: LocalValues = {
    ref: (id) => (id === 'AWS::StackId' ? stackIdOf(stackName) : id === 'AWS::StackName' ? stackName : (refs[resourceOf(id).Type] ?? name)(id)),
    attribute(id, attribute) {
      const type = resourceOf(id).Type;
      if (attribute === 'Arn' && arns[type]) return arns[type](id);
      if (type === 'AWS::SQS::Queue' && attribute === 'QueueName') return name(id);
      if (type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') return placement.queueUrl(name(id));
      throw new Error(`no local value for Fn::GetAtt ${id}.${attribute} (${type})`);
    },
  };
  return values;
}

const pseudoParameters: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': region,
  'AWS::AccountId': account,
  'AWS::URLSuffix': 'amazonaws.com',
};

/**
 * Resolves CloudFormation's intrinsic functions in a template value with local values:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */
export function resolve(value: unknown, values: LocalValues): unknown {
  if (Array.isArray(value)) return value.map((item) => resolve(item, values));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [key, argument] = entries[0] ?? [];
  if (entries.length !== 1 || !key || !(key === 'Ref' || key.startsWith('Fn::'))) {
    return Object.fromEntries(entries.map(([name, item]) => [name, resolve(item, values)]));
  }
  switch (key) {
    case 'Ref': {
      const id = String(argument);
      return pseudoParameters[id] ?? values.ref(id);
    }
    case 'Fn::GetAtt': {
      const [id, attribute] = Array.isArray(argument) ? argument.map(String) : String(argument).split(/\.(.*)/s);
      return values.attribute(id!, attribute!);
    }
    case 'Fn::Join': {
      const [separator, items] = argument as [string, unknown[]];
      return (resolve(items, values) as unknown[]).map(String).join(separator);
    }
    case 'Fn::Split': {
      const [separator, text] = argument as [string, unknown];
      return String(resolve(text, values)).split(separator);
    }
    case 'Fn::Select': {
      const [index, list] = argument as [unknown, unknown];
      const items = resolve(list, values) as unknown[];
      const chosen = items[Number(resolve(index, values))];
      if (chosen === undefined) throw new Error(`Fn::Select index ${String(index)} out of range`);
      return chosen;
    }
    case 'Fn::Sub': {
      const [text, variables = {}] = (Array.isArray(argument) ? argument : [argument, {}]) as [string, Record<string, unknown>];
      return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
        if (name in variables) return String(resolve(variables[name], values));
        if (pseudoParameters[name]) return pseudoParameters[name];
        const [id, attribute] = name.split(/\.(.*)/s);
        return attribute ? values.attribute(id!, attribute) : values.ref(id!);
      });
    }
    default:
      throw new Error(`the rehearsal does not resolve ${key}`);
  }
}

/** A function's `Environment.Variables`, every value resolved to a string. */
export function templateEnvironment(properties: Record<string, unknown>, values: LocalValues): Record<string, string> {
  const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, String(resolve(value, values))]));
}
