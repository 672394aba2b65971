import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { evaluate, type Decision } from '../iam.ts';
import type { RolePolicies } from '../policies.ts';
import type { CloudFormationStandIn } from './cloudformation.ts';
import type { LambdaStandIn } from './lambda.ts';
import type { ParameterStoreStandIn } from './parameter-store.ts';
import { callerOf, describeCall, type WireRequest } from './requests.ts';
import type { SecretsManagerStandIn } from './secrets-manager.ts';

/** One AWS call as the front saw it. */
export interface RecordedCall {
  readonly caller: string;
  readonly service: string;
  readonly operation: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: Decision | 'unchecked' | 'unserved' | 'anonymous';
}

export interface AwsFrontOptions {
  readonly account: string;
  /** fauxqs' port: SQS and S3. */
  readonly emulatorPort: number;
  /** The RDS Data API stand-in. */
  readonly dataApiEndpoint: string;
  readonly secrets: SecretsManagerStandIn;
  readonly parameters: ParameterStoreStandIn;
  readonly cloudFormation: CloudFormationStandIn;
  /** The EventBridge Scheduler stand-in. */
  readonly schedulerEndpoint: string;
  /** Lambda's event source mappings. */
  readonly lambda: LambdaStandIn;
}

/**
 * The one AWS endpoint every function's SDK is pointed at. Each request is signed with
 * its function's own access key id, which names the caller; the call is mapped to its IAM
 * action and resource and checked against that caller's role policies in the template,
 * recorded, and, when allowed, served: SQS and S3 by fauxqs, Secrets Manager, Parameter
 * Store, CloudFormation and Lambda's event source mappings here, the Data API and Scheduler by their stand-ins. A denied
 * call gets AccessDenied, as in AWS.
 */
export async function startAwsFront(options: AwsFrontOptions) {
  const calls: RecordedCall[] = [];
  const principals = new Map<string, { label: string; policies: RolePolicies | 'operator' }>();
  const dataApi = new URL(options.dataApiEndpoint);
  const scheduler = new URL(options.schedulerEndpoint);

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request: WireRequest = { method: incoming.method ?? 'GET', url: incoming.url ?? '/', headers: incoming.headers, body: Buffer.concat(chunks) };
      serve(request, incoming, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: error instanceof Error ? error.message : String(error) }));
      });
    });
  });

  async function serve(request: WireRequest, incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const caller = callerOf(request);
    const principal = caller && principals.get(caller.accessKeyId);
    if (!caller || !principal) {
      calls.push({ caller: caller?.accessKeyId ?? '(unsigned)', service: caller?.service ?? '?', operation: request.url, action: '?', resource: '?', decision: 'anonymous' });
      return deny(response, caller?.service ?? '', request, 'The security token included in the request is invalid.', 'UnrecognizedClientException');
    }
    const described = describeCall(request, caller, { account: options.account, secretArn: (id) => options.secrets.find(id)?.arn, stackArn: (name) => options.cloudFormation.stackArn(name) });
    if (!described) {
      calls.push({ caller: principal.label, service: caller.service, operation: request.url, action: '?', resource: '?', decision: 'unserved' });
      return reply(response, 400, { message: `no stand-in serves ${caller.service}` }, { 'x-amzn-errortype': 'UnknownOperationException' });
    }
    let denied: { action: string; resource: string; decision: Decision } | undefined;
    for (const { action, resource, context } of described.authorizations) {
      const decision = principal.policies === 'operator' ? 'unchecked' : evaluate(principal.policies.statements, { action, resource, ...(context ? { context } : {}) });
      calls.push({ caller: principal.label, service: described.service, operation: described.operation, action, resource, decision });
      if (decision !== 'allow' && decision !== 'unchecked') denied ??= { action, resource, decision };
    }
    if (denied && principal.policies !== 'operator') {
      const role = principal.policies.roleArn.replace(/^arn:aws:iam::(\d+):role\//, 'arn:aws:sts::$1:assumed-role/');
      // The wording of IAM's denials: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
      const why = denied.decision === 'explicit-deny' ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${denied.action} action`;
      return deny(response, described.service, request, `User: ${role}/${principal.label} is not authorized to perform: ${denied.action} on resource: ${denied.resource} ${why}`, 'AccessDenied');
    }
    if (described.service === 'secretsmanager') {
      const answer = options.secrets.handle(described.operation, JSON.parse(request.body.toString('utf8') || '{}'));
      return reply(response, answer.status, answer.body, { 'content-type': 'application/x-amz-json-1.1' });
    }
    if (described.service === 'ssm') {
      const answer = options.parameters.handle(described.operation, JSON.parse(request.body.toString('utf8') || '{}'));
      return reply(response, answer.status, answer.body, { 'content-type': 'application/x-amz-json-1.1' });
    }
    if (described.service === 'cloudformation') {
      const answer = options.cloudFormation.handle(new URLSearchParams(request.body.toString('utf8')));
      response.writeHead(answer.status, { 'content-type': 'text/xml' });
      response.end(answer.body);
      return;
    }
    if (described.service === 'lambda') {
      const answer = options.lambda.handle(request.method, request.url, request.body.toString('utf8'));
      return reply(response, answer.status, answer.body, answer.headers);
    }
    if (described.service === 'rds-data') return forward(request, incoming, response, { host: dataApi.hostname, port: Number(dataApi.port) });
    if (described.service === 'scheduler') return forward(request, incoming, response, { host: scheduler.hostname, port: Number(scheduler.port) });
    return forward(request, incoming, response, { host: '127.0.0.1', port: options.emulatorPort });
  }

  /** Proxies the bytes, Host header included: fauxqs builds queue URLs from it, so they name this front. */
  function forward(request: WireRequest, incoming: IncomingMessage, response: ServerResponse, upstream: { host: string; port: number }): Promise<void> {
    return new Promise((resolve, reject) => {
      const outgoing = httpRequest({ ...upstream, method: request.method, path: request.url, headers: incoming.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response).on('finish', resolve).on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(request.body);
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    /** Lets requests signed with this access key id act with the role's policies. */
    allow(accessKeyId: string, label: string, policies: RolePolicies) {
      principals.set(accessKeyId, { label, policies });
    },
    /** The rehearsal's own key, for what CloudFormation, an operator or another service would do: recorded, not checked. */
    allowOperator(accessKeyId: string) {
      principals.set(accessKeyId, { label: 'operator', policies: 'operator' });
    },
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** AccessDenied in each protocol's own error format. */
function deny(response: ServerResponse, service: string, request: WireRequest, message: string, code: string): void {
  if (service === 's3') {
    response.writeHead(403, { 'content-type': 'application/xml' });
    response.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>rehearsal</RequestId></Error>`);
    return;
  }
  if ((service === 'sqs' && !request.headers['x-amz-target']) || service === 'cloudformation') {
    response.writeHead(403, { 'content-type': 'text/xml' });
    response.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>rehearsal</RequestId></ErrorResponse>`);
    return;
  }
  const type = service === 'sqs' ? `com.amazon.coral.service#${code}Exception` : `${code}Exception`;
  reply(response, service === 'secretsmanager' || service === 'ssm' ? 400 : 403, { __type: type, message, Message: message }, { 'x-amzn-errortype': `${code}Exception`, ...(service === 'sqs' ? { 'x-amzn-query-error': `${code};Sender`, 'content-type': 'application/x-amz-json-1.0' } : {}) });
}
