import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { schedulerTime } from '../../shared/scheduling.ts';

/** An HTTP request as it reached a function URL. */
export interface HttpRequest {
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  readonly sourceIp: string;
}

/**
 * Bodies Lambda passes as text; any other content type arrives base64-encoded with
 * `isBase64Encoded: true` ("If the content type of the request is binary, the body is
 * base64-encoded": https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads).
 */
export function isTextContent(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return /^text\//.test(type) || /^application\/(json|javascript|xml|x-yaml|yaml)$/.test(type) || /\+(json|xml)$/.test(type);
}

/** The payload format 2.0 event a function URL sends for a request (same link). */
export function functionUrlEvent(request: HttpRequest, url: { readonly urlId: string; readonly region: string; readonly accountId: string }): APIGatewayProxyEventV2 {
  const parsed = new URL(request.url, 'http://local');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies = String(value).split(/;\s*/);
    else headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const domainName = `${url.urlId}.lambda-url.${url.region}.on.aws`;
  const query: Record<string, string> = {};
  for (const [name, value] of parsed.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const now = new Date();
  const text = isTextContent(headers['content-type']);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: parsed.pathname,
    rawQueryString: parsed.search.replace(/^\?/, ''),
    ...(cookies ? { cookies } : {}),
    headers: { ...headers, host: domainName, 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', 'x-forwarded-for': request.sourceIp },
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: url.urlId,
      domainName,
      domainPrefix: url.urlId,
      http: { method: request.method, path: parsed.pathname, protocol: 'HTTP/1.1', sourceIp: request.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(request.body.length > 0 ? { body: text ? request.body.toString('utf8') : request.body.toString('base64') } : {}),
    isBase64Encoded: request.body.length > 0 && !text,
  } as APIGatewayProxyEventV2;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly cookies: readonly string[];
  readonly body: Buffer;
}

/**
 * A function's result as the function URL answers it: a `statusCode` object as given,
 * anything else as a 200 JSON body (same link, "Response payload format").
 */
export function functionUrlResponse(payload: unknown): HttpResponse {
  const shaped = payload !== null && typeof payload === 'object' && 'statusCode' in payload;
  if (!shaped) return { status: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)) };
  const result = payload as { statusCode: number; headers?: Record<string, string>; cookies?: string[]; body?: string; isBase64Encoded?: boolean };
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    cookies: result.cookies ?? [],
    body: result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
  };
}

/**
 * What the CDK trigger's provider sends: it calls Invoke with no Payload
 * (node_modules/aws-cdk-lib/custom-resource-handlers/dist/triggers/lambda/index.js), and
 * Lambda hands the function `{}` (https://github.com/aws/aws-lambda-dotnet/pull/834).
 */
export const triggerEvent = {};

/**
 * A schedule's `Target.Input` as Scheduler sends it at `time`, its context attribute filled
 * in: https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html
 */
export function scheduledInput(input: string, time: Date): string {
  return input.replaceAll('<aws.scheduler.scheduled-time>', schedulerTime(time));
}
