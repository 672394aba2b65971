import type { AuthorizationRequest } from '../iam.ts';

/** An HTTP request as a stand-in received it. */
export interface WireRequest {
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** What an AWS call is, and what IAM must allow for it. */
export interface DescribedCall {
  readonly service: string;
  readonly operation: string;
  readonly authorizations: readonly AuthorizationRequest[];
}

export interface Caller {
  readonly accessKeyId: string;
  readonly region: string;
  readonly service: string;
}

const header = (request: WireRequest, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The caller of a SigV4-signed request, from the Authorization header's Credential (or a
 * presigned URL's X-Amz-Credential): `<access key>/<date>/<region>/<service>/aws4_request`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
 */
export function callerOf(request: WireRequest): Caller | undefined {
  const credential = /Credential=([^,\s]+)/.exec(header(request, 'authorization') ?? '')?.[1]
    ?? new URL(request.url, 'http://local').searchParams.get('X-Amz-Credential') ?? undefined;
  const [accessKeyId, , region, service] = credential?.split('/') ?? [];
  return accessKeyId && region && service ? { accessKeyId, region, service } : undefined;
}

type Describer = (request: WireRequest, caller: Caller, lookups: Lookups) => DescribedCall;

export interface Lookups {
  readonly account: string;
  /** The ARN of a secret named by name or ARN, when the stand-in holds it. */
  readonly secretArn: (secretId: string) => string | undefined;
  /** The ARN (stack id) of a stack named by name or id, when the stand-in holds it. */
  readonly stackArn?: (stackName: string) => string | undefined;
}

/** A queue's ARN from its URL (`…/<account>/<name>`). */
const queueArn = (url: unknown, caller: Caller, account: string) => `arn:aws:sqs:${caller.region}:${account}:${String(url).split('/').pop()}`;

/**
 * SQS: the JSON protocol's X-Amz-Target or the query protocol's Action; a batch call needs
 * the permission of its single form. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
 */
const sqs: Describer = (request, caller, { account }) => {
  const target = header(request, 'x-amz-target');
  const json = target ? (JSON.parse(request.body.toString('utf8') || '{}') as Record<string, unknown>) : undefined;
  const form = target ? undefined : new URLSearchParams(request.body.toString('utf8'));
  const operation = target?.replace(/^AmazonSQS\./, '') ?? form?.get('Action') ?? '';
  const action = `sqs:${operation.replace(/Batch$/, '')}`;
  const queueUrl = json?.QueueUrl ?? form?.get('QueueUrl');
  const queueName = json?.QueueName ?? form?.get('QueueName');
  // A message move task names its source queue by ARN.
  const sourceArn = json?.SourceArn ?? form?.get('SourceArn');
  const resource = queueUrl ? queueArn(queueUrl, caller, account) : queueName ? `arn:aws:sqs:${caller.region}:${account}:${String(queueName)}` : sourceArn ? String(sourceArn) : '*';
  return { service: 'sqs', operation, authorizations: [{ action, resource }] };
};

/**
 * S3, path-style (the SDK's choice for an IP endpoint): the operation from method and
 * query, the resource the bucket or the object; multipart parts need s3:PutObject and a
 * multi-object delete s3:DeleteObject per key.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 */
const s3: Describer = (request) => {
  const url = new URL(request.url, 'http://local');
  const [bucket = '', ...keyParts] = url.pathname.slice(1).split('/');
  const key = keyParts.map(decodeURIComponent).join('/');
  const query = url.searchParams;
  const object = `arn:aws:s3:::${bucket}/${key}`;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const one = (operation: string, action: string, resource: string): DescribedCall => ({ service: 's3', operation, authorizations: [{ action, resource }] });
  const { method } = request;
  if (!key) {
    if (method === 'GET' && query.has('location')) return one('GetBucketLocation', 's3:GetBucketLocation', bucketArn);
    if (method === 'GET' && query.has('uploads')) return one('ListMultipartUploads', 's3:ListBucketMultipartUploads', bucketArn);
    if (method === 'GET') return one('ListObjects', 's3:ListBucket', bucketArn);
    if (method === 'POST' && query.has('delete')) {
      const keys = [...request.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
      return { service: 's3', operation: 'DeleteObjects', authorizations: keys.map((name) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${name}` })) };
    }
    if (method === 'HEAD') return one('HeadBucket', 's3:ListBucket', bucketArn);
    if (method === 'PUT') return one('CreateBucket', 's3:CreateBucket', bucketArn);
    return one(`${method} bucket?${[...query.keys()].join('&')}`, `s3:UnmappedBucketOperation`, bucketArn);
  }
  if (method === 'GET' && query.has('uploadId')) return one('ListParts', 's3:ListMultipartUploadParts', object);
  if (method === 'GET' || method === 'HEAD') return one(method === 'GET' ? 'GetObject' : 'HeadObject', 's3:GetObject', object);
  if (method === 'DELETE') return query.has('uploadId') ? one('AbortMultipartUpload', 's3:AbortMultipartUpload', object) : one('DeleteObject', 's3:DeleteObject', object);
  if (method === 'POST' && query.has('uploads')) return one('CreateMultipartUpload', 's3:PutObject', object);
  if (method === 'POST' && query.has('uploadId')) return one('CompleteMultipartUpload', 's3:PutObject', object);
  if (method === 'PUT') {
    const source = header(request, 'x-amz-copy-source');
    const operation = query.has('uploadId') ? (source ? 'UploadPartCopy' : 'UploadPart') : source ? 'CopyObject' : 'PutObject';
    return {
      service: 's3',
      operation,
      authorizations: [{ action: 's3:PutObject', resource: object }, ...(source ? [{ action: 's3:GetObject', resource: `arn:aws:s3:::${decodeURIComponent(source.replace(/^\//, '').split('?')[0]!)}` }] : [])],
    };
  }
  return one(`${method} object`, 's3:UnmappedObjectOperation', object);
};

/** Secrets Manager's JSON protocol: the secret's full ARN is the resource, whichever way it was named. */
const secretsManager: Describer = (request, _caller, { secretArn }) => {
  const operation = (header(request, 'x-amz-target') ?? '').replace(/^secretsmanager\./, '');
  const secretId = String((JSON.parse(request.body.toString('utf8') || '{}') as { SecretId?: unknown }).SecretId ?? '*');
  return { service: 'secretsmanager', operation, authorizations: [{ action: `secretsmanager:${operation}`, resource: secretArn(secretId) ?? secretId }] };
};

const dataApiOperations: Record<string, string> = {
  '/Execute': 'ExecuteStatement',
  '/BatchExecute': 'BatchExecuteStatement',
  '/BeginTransaction': 'BeginTransaction',
  '/CommitTransaction': 'CommitTransaction',
  '/RollbackTransaction': 'RollbackTransaction',
};

/**
 * The RDS Data API (REST-JSON): the action on the cluster, and the secret it reads with
 * the caller's own permissions. https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html
 */
const rdsData: Describer = (request) => {
  const path = new URL(request.url, 'http://local').pathname;
  const operation = dataApiOperations[path] ?? path;
  const body = JSON.parse(request.body.toString('utf8') || '{}') as { resourceArn?: string; secretArn?: string };
  return {
    service: 'rds-data',
    operation,
    authorizations: [
      { action: `rds-data:${operation}`, resource: body.resourceArn ?? '*' },
      ...(body.secretArn ? [{ action: 'secretsmanager:GetSecretValue', resource: body.secretArn }] : []),
    ],
  };
};

/**
 * EventBridge Scheduler's REST API: the schedule's ARN, and iam:PassRole on the role a
 * schedule's target is given. https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html
 */
const scheduler: Describer = (request, caller, { account }) => {
  const url = new URL(request.url, 'http://local');
  const name = /^\/schedules\/([^/]+)$/.exec(url.pathname)?.[1];
  const body = request.body.length > 0 ? (JSON.parse(request.body.toString('utf8')) as { GroupName?: string; Target?: { RoleArn?: string } }) : {};
  const group = body.GroupName ?? url.searchParams.get('groupName') ?? 'default';
  const verbs: Record<string, string> = { POST: 'CreateSchedule', PUT: 'UpdateSchedule', GET: 'GetSchedule', DELETE: 'DeleteSchedule' };
  const operation = name ? (verbs[request.method] ?? request.method) : 'ListSchedules';
  const resource = name ? `arn:aws:scheduler:${caller.region}:${account}:schedule/${group}/${decodeURIComponent(name)}` : '*';
  const passRole = body.Target?.RoleArn ? [{ action: 'iam:PassRole', resource: body.Target.RoleArn, context: { 'iam:PassedToService': 'scheduler.amazonaws.com' } }] : [];
  return { service: 'scheduler', operation, authorizations: [{ action: `scheduler:${operation}`, resource }, ...passRole] };
};

/**
 * Parameter Store's JSON protocol: GetParametersByPath is authorized against the path asked
 * for, not the parameters it returns; the others against each parameter named.
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-retrieval-authorization.html
 */
const ssm: Describer = (request, caller, { account }) => {
  const operation = (header(request, 'x-amz-target') ?? '').replace(/^AmazonSSM\./, '');
  const body = JSON.parse(request.body.toString('utf8') || '{}') as { Path?: unknown; Name?: unknown; Names?: unknown };
  const parameter = (name: unknown) => `arn:aws:ssm:${caller.region}:${account}:parameter/${String(name).replace(/^\//, '')}`;
  const named = body.Path !== undefined ? [body.Path] : body.Name !== undefined ? [body.Name] : Array.isArray(body.Names) ? body.Names : [];
  const resources = named.length > 0 ? named.map(parameter) : ['*'];
  return { service: 'ssm', operation, authorizations: resources.map((resource) => ({ action: `ssm:${operation}`, resource })) };
};

/**
 * CloudFormation's query protocol: the stack's ARN is the resource, `stack/<name>/*` for a
 * stack not held here, `*` when no stack is named.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
 */
const cloudFormation: Describer = (request, caller, { account, stackArn }) => {
  const form = new URLSearchParams(request.body.toString('utf8'));
  const operation = form.get('Action') ?? '';
  const name = form.get('StackName');
  const resource = name === null ? '*' : (stackArn?.(name) ?? (name.startsWith('arn:') ? name : `arn:aws:cloudformation:${caller.region}:${account}:stack/${name}/*`));
  return { service: 'cloudformation', operation, authorizations: [{ action: `cloudformation:${operation}`, resource }] };
};

/**
 * Lambda's event source mappings (REST-JSON): listing takes no resource; reading and
 * updating one is authorized against its ARN, `event-source-mapping:<UUID>`.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 */
const lambda: Describer = (request, caller, { account }) => {
  const { pathname } = new URL(request.url, 'http://local');
  const uuid = /^\/2015-03-31\/event-source-mappings\/([^/]+)$/.exec(pathname)?.[1];
  if (!uuid) {
    const listing = request.method === 'GET' && /^\/2015-03-31\/event-source-mappings\/?$/.test(pathname);
    return { service: 'lambda', operation: listing ? 'ListEventSourceMappings' : `${request.method} ${pathname}`, authorizations: [{ action: listing ? 'lambda:ListEventSourceMappings' : 'lambda:UnmappedOperation', resource: '*' }] };
  }
  const verbs: Record<string, string> = { GET: 'GetEventSourceMapping', PUT: 'UpdateEventSourceMapping', DELETE: 'DeleteEventSourceMapping' };
  const operation = verbs[request.method] ?? `${request.method} mapping`;
  return { service: 'lambda', operation, authorizations: [{ action: `lambda:${operation}`, resource: `arn:aws:lambda:${caller.region}:${account}:event-source-mapping:${decodeURIComponent(uuid)}` }] };
};

const describers: Record<string, Describer> = { sqs, s3, secretsmanager: secretsManager, 'rds-data': rdsData, scheduler, ssm, cloudformation: cloudFormation, lambda };

/** The call a request makes and the IAM authorisations it needs; undefined for a service with no stand-in. */
export function describeCall(request: WireRequest, caller: Caller, lookups: Lookups): DescribedCall | undefined {
  return describers[caller.service]?.(request, caller, lookups);
}
