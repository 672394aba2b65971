import type { EventSourcePoller } from '../../../shared/local/poller.ts';
import type { EventSourceSettings } from '../functions.ts';

/** One SQS event source mapping of the template, with the poller that stands for Lambda's. */
export interface StandInMapping {
  readonly uuid: string;
  readonly functionArn: string;
  readonly settings: EventSourceSettings;
  readonly poller: EventSourcePoller;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** Where Lambda's event source mapping API lives: https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html */
export const mappingsPath = '/2015-03-31/event-source-mappings';

/**
 * Lambda's event source mapping API over the rehearsal's pollers: List, Get and Update
 * (`Enabled` pauses and resumes the poller; the other settings are refused rather than
 * ignored). An update answers 202 with the transitional state, `Disabling` or `Enabling`,
 * as Lambda does; reads show where the poller is. Errors are REST-JSON's: the type in
 * `x-amzn-errortype`, the message in the body.
 * https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html
 */
export class LambdaStandIn {
  readonly #mappings: StandInMapping[] = [];
  readonly #lastModified = new Map<string, number>();

  /** A mapping the template declares, once its poller runs. */
  add(mapping: StandInMapping): void {
    this.#mappings.push(mapping);
  }

  handle(method: string, url: string, body: string): Answer {
    const { pathname, searchParams } = new URL(url, 'http://local');
    if (method === 'GET' && (pathname === mappingsPath || pathname === `${mappingsPath}/`)) return this.#list(searchParams);
    const uuid = pathname.startsWith(`${mappingsPath}/`) ? decodeURIComponent(pathname.slice(mappingsPath.length + 1)) : undefined;
    if (!uuid) return error(404, 'UnknownOperationException', `the stand-in serves only event source mappings, not ${method} ${pathname}`);
    const mapping = this.#mappings.find((candidate) => candidate.uuid === uuid);
    if (!mapping) return error(404, 'ResourceNotFoundException', `The resource you requested does not exist. (Service: Lambda, Status Code: 404, Request ID: rehearsal) ${uuid}`);
    if (method === 'GET') return { status: 200, body: this.#configuration(mapping) };
    if (method === 'PUT') return this.#update(mapping, JSON.parse(body || '{}') as Record<string, unknown>);
    return error(404, 'UnknownOperationException', `the stand-in does not serve ${method} on a mapping`);
  }

  /** FunctionName may be a name, an ARN or a partial ARN; MaxItems is 1 to 10,000, and a page holds at most 100. */
  #list(query: URLSearchParams): Answer {
    const functionName = query.get('FunctionName');
    const sourceArn = query.get('EventSourceArn');
    const maxItems = query.has('MaxItems') ? Number(query.get('MaxItems')) : 100;
    if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 10_000) return error(400, 'InvalidParameterValueException', `1 validation error detected: Value '${query.get('MaxItems')}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000`);
    const matching = this.#mappings.filter((mapping) => (!functionName || matchesFunction(mapping.functionArn, functionName)) && (!sourceArn || mapping.settings.queueArn === sourceArn));
    const start = query.has('Marker') ? Number(query.get('Marker')) : 0;
    if (!Number.isInteger(start) || start < 0 || start > matching.length) return error(400, 'InvalidParameterValueException', 'Invalid marker');
    const end = start + Math.min(maxItems, 100);
    return { status: 200, body: { EventSourceMappings: matching.slice(start, end).map((mapping) => this.#configuration(mapping)), ...(end < matching.length ? { NextMarker: String(end) } : {}) } };
  }

  #update(mapping: StandInMapping, request: Record<string, unknown>): Answer {
    const unsupported = Object.keys(request).filter((key) => key !== 'Enabled');
    if (unsupported.length > 0) return error(400, 'InvalidParameterValueException', `the rehearsal's mappings change only Enabled, not ${unsupported.join(', ')}`);
    if (request.Enabled !== undefined && typeof request.Enabled !== 'boolean') return error(400, 'InvalidParameterValueException', 'Enabled must be a boolean');
    this.#lastModified.set(mapping.uuid, Date.now());
    if (request.Enabled === false && mapping.poller.state === 'Enabled') {
      mapping.poller.pause();
      return { status: 202, body: { ...this.#configuration(mapping), State: 'Disabling' } };
    }
    if (request.Enabled === true && mapping.poller.state === 'Disabled') {
      mapping.poller.resume();
      return { status: 202, body: { ...this.#configuration(mapping), State: 'Enabling' } };
    }
    return { status: 202, body: this.#configuration(mapping) };
  }

  #configuration(mapping: StandInMapping) {
    const { settings } = mapping;
    return {
      UUID: mapping.uuid,
      EventSourceArn: settings.queueArn,
      FunctionArn: mapping.functionArn,
      BatchSize: settings.batchSize,
      MaximumBatchingWindowInSeconds: settings.batchingWindowSeconds,
      ...(settings.scalingMaximumConcurrency ? { ScalingConfig: { MaximumConcurrency: settings.scalingMaximumConcurrency } } : {}),
      FunctionResponseTypes: settings.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
      State: mapping.poller.state,
      StateTransitionReason: 'USER_INITIATED',
      LastModified: (this.#lastModified.get(mapping.uuid) ?? 0) / 1000,
    };
  }
}

function matchesFunction(functionArn: string, name: string): boolean {
  if (name.startsWith('arn:')) return functionArn === name;
  // A partial ARN: `<account>:function:<name>`, or the bare name.
  return functionArn.endsWith(`:${name}`) && (name.includes(':function:') || !name.includes(':'));
}

function error(status: number, type: string, message: string): Answer {
  return { status, body: { Type: 'User', message }, headers: { 'x-amzn-errortype': type } };
}
