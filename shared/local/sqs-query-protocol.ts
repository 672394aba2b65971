import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { guardedListener, isAllowedHost, isFromBrowser, requestUrl } from './guard.ts';
import { HttpError, readBytes } from './http.ts';

// Written by hand: no library translates SQS's query protocol to its JSON protocol.

export interface SqsQueryProtocolOptions {
  /** The public port (0 picks a free one). */
  readonly port: number;
  /** The JSON-only emulator (fauxqs) behind it, on 127.0.0.1. */
  readonly upstreamPort: number;
  /** Other services on the same port (EventBridge Scheduler), asked first by path. */
  readonly otherHandlers?: readonly PathHandler[];
  /** The address to listen on (`listenHost`). */
  readonly host: string;
}

export interface PathHandler {
  matches(request: IncomingMessage, url: URL): boolean;
  /** Answers the request itself, errors included. */
  handle(request: IncomingMessage, response: ServerResponse): Promise<void>;
}

export interface SqsQueryProtocolFront {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

const namespace = 'http://queue.amazonaws.com/doc/2012-11-05/';
const sqsActions = new Set([
  'AddPermission', 'CancelMessageMoveTask', 'ChangeMessageVisibility', 'ChangeMessageVisibilityBatch', 'CreateQueue', 'DeleteMessage',
  'DeleteMessageBatch', 'DeleteQueue', 'GetQueueAttributes', 'GetQueueUrl', 'ListDeadLetterSourceQueues', 'ListMessageMoveTasks',
  'ListQueueTags', 'ListQueues', 'PurgeQueue', 'ReceiveMessage', 'RemovePermission', 'SendMessage', 'SendMessageBatch',
  'SetQueueAttributes', 'StartMessageMoveTask', 'TagQueue', 'UntagQueue',
]);
/** Their query response carries only ResponseMetadata. */
const noResult = new Set(['AddPermission', 'ChangeMessageVisibility', 'DeleteMessage', 'DeleteQueue', 'PurgeQueue', 'RemovePermission', 'SetQueueAttributes', 'TagQueue', 'UntagQueue']);
/** Query error codes that keep the legacy prefix (the rest are bare, e.g. InvalidParameterValue). */
const prefixedCodes = new Set(['BatchEntryIdsNotDistinct', 'BatchRequestTooLong', 'EmptyBatchRequest', 'InvalidBatchEntryId', 'MessageNotInflight', 'NonExistentQueue', 'PurgeQueueInProgress', 'QueueDeletedRecently', 'TooManyEntriesInBatchRequest', 'UnsupportedOperation']);
const signatureParams = new Set(['Action', 'Version', 'AWSAccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'Timestamp', 'Expires', 'SecurityToken']);
/** The largest request body read here: a batch of ten 1 MiB messages, quoted, with room to spare. */
const maxBodyBytes = 16 * 1024 * 1024;
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'expect']);

/**
 * The local cloud's public SQS+S3 port: SQS query-protocol requests (form-encoded with an
 * `Action`, POST body or GET query string, at `/` or at a queue URL's path) become JSON
 * calls to fauxqs and their answers XML; everything else (JSON SQS, S3, SNS) is proxied
 * through as bytes with its Host header, which is what fauxqs builds queue URLs from.
 * `otherHandlers` claim their paths before any of that.
 */
export async function startSqsQueryProtocol(options: SqsQueryProtocolOptions): Promise<SqsQueryProtocolFront> {
  const agent = new Agent({ keepAlive: true });
  const upstream = { host: '127.0.0.1', port: options.upstreamPort, agent };
  const publicHost = () => `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { host } = options;
  const server = createServer(guardedListener(async (req, res) => {
    try {
      await handle(req, res);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else if (error instanceof HttpError) sendError(res, error.status, error.status === 413 ? 'RequestEntityTooLarge' : 'InvalidParameterValue', error.message, 'Sender');
      else sendError(res, 500, 'InternalFailure', error instanceof Error ? error.message : String(error), 'Receiver');
    }
  }, (res, status, message) => sendError(res, status, status === 400 ? 'MalformedQueryString' : 'InternalFailure', message, status === 400 ? 'Sender' : 'Receiver')));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only tools speak to this port: a page's form post or <img> carries its browser's marks, and a rebound name is not ours.
    if (!isAllowedHost(req.headers.host, host)) throw new HttpError(403, `this endpoint answers only for ${host} and localhost`);
    if (isFromBrowser(req)) throw new HttpError(403, 'browser requests are refused: the SDKs, aws-cli, boto3 and kombu send no Origin or Sec-Fetch-Site');
    const url = requestUrl(req);
    if (!url) throw new HttpError(400, 'the request target must be a path');
    const other = options.otherHandlers?.find((handler) => handler.matches(req, url));
    if (other) return other.handle(req, res);
    const target = req.headers['x-amz-target'];
    if (req.method === 'POST' && typeof target === 'string' && target.startsWith('AmazonSQS.')) {
      // fauxqs answers unreadable JSON with a 500, which SDKs retry; SQS refuses it as the client's error.
      const bytes = await readBytes(req, maxBodyBytes);
      try {
        JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        return sendJsonError(res, 'SerializationException', `the body is not JSON: ${(error as Error).message}`);
      }
      return proxy(req, res, bytes);
    }
    const isForm = req.method === 'POST' && /^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '');
    if (!isForm && !(req.method === 'GET' && sqsActions.has(url.searchParams.get('Action') ?? ''))) return proxy(req, res);
    const bytes = isForm ? await readBytes(req, maxBodyBytes) : Buffer.alloc(0);
    const body = bytes.toString('utf8');
    const params = new URLSearchParams([...url.searchParams, ...new URLSearchParams(body)]);
    const action = params.get('Action') ?? '';
    if (!sqsActions.has(action)) return proxy(req, res, bytes);
    const input = toJsonInput(unflatten(params), action);
    if (url.pathname !== '/' && input.QueueUrl === undefined) input.QueueUrl = `http://${req.headers.host ?? 'localhost'}${url.pathname}`;
    const credential = params.get('X-Amz-Credential');
    const authorization = req.headers.authorization ?? (credential ? `AWS4-HMAC-SHA256 Credential=${credential}` : undefined);
    const answer = await callJson(action, input, { host: req.headers.host ?? publicHost(), ...(authorization ? { authorization } : {}) });
    if (answer.status < 300) return sendXml(res, 200, successXml(action, answer.body));
    const [queryCode, fault] = (answer.queryError ?? '').split(';');
    const code = queryErrorCode(queryCode || String(answer.body.__type ?? answer.body.code ?? 'InternalFailure').replace(/^.*#/, ''));
    const message = String(answer.body.message ?? answer.body.Message ?? answer.body.error ?? '');
    sendError(res, answer.status, code, message, fault === 'Receiver' || answer.status >= 500 ? 'Receiver' : 'Sender');
  }

  function proxy(req: IncomingMessage, res: ServerResponse, buffered?: Buffer): void {
    const headers = pairs(req.rawHeaders).filter(([name]) => !hopByHop.has(name.toLowerCase())).flat();
    // fauxqs builds queue URLs from the Host header: without one they would name its own port.
    if (!req.headers.host) headers.push('host', publicHost());
    const forward = httpRequest({ ...upstream, method: req.method, path: req.url, headers }, (answer) => {
      if (res.destroyed) return answer.destroy();
      const back = pairs(answer.rawHeaders).filter(([name]) => !hopByHop.has(name.toLowerCase())).flat();
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, back);
      pipeline(answer, res, () => undefined);
    });
    forward.on('error', () => (res.headersSent ? res.destroy() : sendError(res, 502, 'ServiceUnavailable', 'the emulator behind the local cloud did not answer', 'Receiver')));
    if (buffered) forward.end(buffered);
    else pipeline(req, forward, () => undefined);
  }

  function callJson(action: string, input: Record<string, unknown>, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; queryError?: string }> {
    return new Promise((resolve, reject) => {
      const call = httpRequest({ ...upstream, method: 'POST', path: '/', headers: { ...headers, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` } }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('error', reject);
        answer.on('end', () => {
          const queryError = answer.headers['x-amzn-query-error'];
          resolve({ status: answer.statusCode ?? 500, body: parseJson(Buffer.concat(chunks).toString('utf8')), ...(typeof queryError === 'string' ? { queryError } : {}) });
        });
      });
      call.on('error', reject);
      call.end(JSON.stringify(input));
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

type Tree = { [key: string]: Tree | string };

/** Names that would reach an object's prototype rather than a key of its own. */
const prototypeKeys = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * `A.1.B=x` → `{ A: { 1: { B: 'x' } } }`; signature parameters dropped. The nodes have no
 * prototype and a prototype's name is refused, so no parameter can reach `Object.prototype`.
 */
function unflatten(params: URLSearchParams): Tree {
  const root: Tree = Object.create(null) as Tree;
  for (const [key, value] of params) {
    if (signatureParams.has(key) || key.startsWith('X-Amz-')) continue;
    const path = key.split('.');
    if (path.some((segment) => prototypeKeys.has(segment))) throw new HttpError(400, `parameter ${key.slice(0, 100)} is not one SQS takes`);
    let node = root;
    for (const segment of path.slice(0, -1)) {
      const next = node[segment];
      node = typeof next === 'object' ? next : (node[segment] = Object.create(null) as Tree);
    }
    node[path.at(-1)!] = value;
  }
  return root;
}

/** The numbered members `1`, `2`, … of a flattened list, in order. */
function members(node: Tree | string): (Tree | string)[] {
  if (typeof node === 'string') return [];
  return Object.keys(node)
    .filter((key) => /^\d+$/.test(key))
    .sort((a, b) => Number(a) - Number(b))
    .map((key) => node[key]!);
}

const text = (node: Tree | string | undefined): string => (typeof node === 'string' ? node : '');
const scalarLists: Record<string, string> = { AttributeName: 'AttributeNames', MessageAttributeName: 'MessageAttributeNames', MessageSystemAttributeName: 'MessageSystemAttributeNames', TagKey: 'TagKeys', AWSAccountId: 'AWSAccountIds', ActionName: 'Actions', StringListValue: 'StringListValues', BinaryListValue: 'BinaryListValues' };
const entryLists = new Set(['SendMessageBatchRequestEntry', 'DeleteMessageBatchRequestEntry', 'ChangeMessageVisibilityBatchRequestEntry']);
const numbers = new Set(['MaxNumberOfMessages', 'WaitTimeSeconds', 'VisibilityTimeout', 'DelaySeconds', 'MaxResults', 'MaxNumberOfMessagesPerSecond']);

/** The query protocol's flattened names as the JSON protocol's input shape. */
function toJsonInput(tree: Tree, action = ''): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    if (scalarLists[key]) input[scalarLists[key]] = members(node).map(text);
    else if (entryLists.has(key)) input.Entries = members(node).map((entry) => toJsonInput(typeof entry === 'string' ? {} : entry, action));
    else if (key === 'Attribute') input.Attributes = Object.fromEntries(members(node).map((pair) => [text((pair as Tree).Name), text((pair as Tree).Value)]));
    else if (key === 'Tag') input[action === 'CreateQueue' ? 'tags' : 'Tags'] = Object.fromEntries(members(node).map((pair) => [text((pair as Tree).Key), text((pair as Tree).Value)]));
    else if (key === 'MessageAttribute' || key === 'MessageSystemAttribute') {
      input[`${key}s`] = Object.fromEntries(members(node).map((pair) => [text((pair as Tree).Name), toJsonInput(typeof (pair as Tree).Value === 'object' ? ((pair as Tree).Value as Tree) : {})]));
    } else if (typeof node === 'string') input[key] = numbers.has(key) && /^-?\d+$/.test(node) ? Number(node) : node;
    else input[key] = toJsonInput(node, action);
  }
  return input;
}

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' };
/** XML parsers turn a bare CR into LF, so it goes out as a character reference, as SQS sends it. */
const escape = (value: string) => value.replace(/[&<>"'\r]/g, (c) => entities[c]!);
const listElements: Record<string, string> = { Messages: 'Message', QueueUrls: 'QueueUrl', Failed: 'BatchResultErrorEntry', StringListValues: 'StringListValue', BinaryListValues: 'BinaryListValue' };
const mapElements: Record<string, readonly [string, string]> = { Attributes: ['Attribute', 'Name'], MessageAttributes: ['MessageAttribute', 'Name'], Tags: ['Tag', 'Key'] };

/** One JSON member as query-protocol XML: lists and maps flattened, as SQS's model has them. */
function element(name: string, value: unknown, action: string): string {
  if (value === undefined || value === null) return '';
  const list = name === 'Successful' ? `${action}ResultEntry` : listElements[name];
  if (list && Array.isArray(value)) return value.map((item) => element(list, item, action)).join('');
  const map = mapElements[name];
  if (map && typeof value === 'object') {
    return Object.entries(value).map(([key, item]) => `<${map[0]}><${map[1]}>${escape(key)}</${map[1]}>${element('Value', item, action)}</${map[0]}>`).join('');
  }
  if (typeof value === 'object') return `<${name}>${Object.entries(value).map(([key, item]) => element(key, item, action)).join('')}</${name}>`;
  return `<${name}>${escape(String(value))}</${name}>`;
}

function successXml(action: string, output: Record<string, unknown>): string {
  const result = noResult.has(action) ? '' : element(`${action}Result`, output, action);
  return `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${namespace}">${result}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

/** fauxqs's `AWS.SimpleQueueService.X` query code, prefixed only where SQS prefixes it. */
function queryErrorCode(code: string): string {
  const bare = code.replace(/^AWS\.SimpleQueueService\./, '').replace(/^QueueDoesNotExist$/, 'NonExistentQueue').replace(/^QueueNameExists$/, 'QueueAlreadyExists');
  return prefixedCodes.has(bare) ? `AWS.SimpleQueueService.${bare}` : bare;
}

function sendError(res: ServerResponse, status: number, code: string, message: string, type: 'Sender' | 'Receiver'): void {
  const error = `<Type>${type}</Type><Code>${escape(code)}</Code><Message>${escape(message)}</Message><Detail/>`;
  sendXml(res, status, `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="${namespace}"><Error>${error}</Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
}

/**
 * An error as the JSON protocol carries it: the shape's name in `__type`, with the query
 * protocol's code in `x-amzn-query-error` (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).
 */
function sendJsonError(res: ServerResponse, code: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message });
  res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body), 'x-amzn-query-error': `${code};Sender`, 'x-amzn-requestid': randomUUID() });
  res.end(body);
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml), 'x-amzn-requestid': randomUUID() });
  res.end(xml);
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return { message: text };
  }
}

function pairs(raw: readonly string[]): [string, string][] {
  return Array.from({ length: raw.length / 2 }, (_, i) => [raw[2 * i]!, raw[2 * i + 1]!]);
}
