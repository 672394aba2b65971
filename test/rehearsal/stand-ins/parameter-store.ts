import { resourcesOfType, type Template } from '../assembly.ts';
import { resolve, type LocalValues } from '../environment.ts';
import type { ServiceAnswer } from './secrets-manager.ts';

interface StoredParameter {
  readonly name: string;
  readonly type: string;
  readonly value: string;
  readonly lastModified: number;
}

/** What GetParametersByPath takes (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParametersByPath.html). */
interface GetParametersByPathInput {
  readonly Path?: unknown;
  readonly Recursive?: unknown;
  readonly MaxResults?: unknown;
  readonly NextToken?: unknown;
  readonly ParameterFilters?: unknown;
  readonly WithDecryption?: unknown;
}

/** The service's page size limit and default. */
const maxResults = 10;

const error = (type: string, message: string): ServiceAnswer => ({ status: 400, body: { __type: type, message } });
const validation = (message: string) => error('ValidationException', `1 validation error detected: ${message}`);

/**
 * Parameter Store's JSON protocol (`X-Amz-Target: AmazonSSM.<Operation>`) for the
 * template's `AWS::SSM::Parameter`s: GetParametersByPath, paged at most 10 a call, with
 * the service's validation and error names (awsJson1_1 errors carry `__type`:
 * smithy-lang/smithy smithy-aws-protocol-tests/model/awsJson1_1/errors.smithy).
 */
export class ParameterStoreStandIn {
  readonly #template: Template;
  readonly #values: LocalValues;
  readonly #arnPrefix: string;
  readonly #createdAt = Math.floor(Date.now() / 1000);

  constructor(template: Template, values: LocalValues, placement: { region: string; account: string }) {
    this.#template = template;
    this.#values = values;
    this.#arnPrefix = `arn:aws:ssm:${placement.region}:${placement.account}:parameter`;
  }

  /** Every parameter of the template, its `Name` and `Value` resolved when asked: queue URLs name the front, which starts after this. */
  #parameters(): StoredParameter[] {
    return resourcesOfType(this.#template, 'AWS::SSM::Parameter')
      .map(([, resource]) => {
        const properties = resource.Properties ?? {};
        return { name: String(resolve(properties.Name, this.#values)), type: String(properties.Type ?? 'String'), value: String(resolve(properties.Value, this.#values)), lastModified: this.#createdAt };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  handle(operation: string, input: Record<string, unknown>): ServiceAnswer {
    if (operation === 'GetParametersByPath') return this.#byPath(input as GetParametersByPathInput);
    return { status: 400, body: { __type: 'UnknownOperationException', message: `the stand-in does not serve ${operation}` } };
  }

  #byPath(input: GetParametersByPathInput): ServiceAnswer {
    if (typeof input.Path !== 'string') return validation("Value null at 'path' failed to satisfy constraint: Member must not be null");
    if (!input.Path.startsWith('/') || input.Path.length > 2048) return validation(`Value '${input.Path}' at 'path' failed to satisfy constraint: Member must begin with / and be at most 2048 characters`);
    const size = input.MaxResults ?? maxResults;
    if (typeof size !== 'number' || !Number.isInteger(size)) return error('SerializationException', `MaxResults must be an integer, not ${JSON.stringify(size)}`);
    if (size < 1 || size > maxResults) return validation(`Value '${size}' at 'maxResults' failed to satisfy constraint: Member must have value ${size < 1 ? 'greater than or equal to 1' : `less than or equal to ${maxResults}`}`);
    // Filters change what matches; answering as if they were absent would hide the difference.
    if (input.ParameterFilters !== undefined) return error('ValidationException', 'the stand-in does not apply ParameterFilters');
    const recursive = input.Recursive === true;
    const prefix = input.Path.endsWith('/') ? input.Path : `${input.Path}/`;
    const matching = this.#parameters().filter(({ name }) => name.startsWith(prefix) && (recursive || !name.slice(prefix.length).includes('/')));
    const query = `${prefix}|${recursive}`;
    let start = 0;
    if (input.NextToken !== undefined) {
      const token = readToken(input.NextToken);
      if (!token || token.query !== query) return error('InvalidNextToken', 'The specified token isn\'t valid.');
      start = token.offset;
    }
    const page = matching.slice(start, start + size);
    const end = start + page.length;
    return {
      status: 200,
      body: {
        Parameters: page.map((parameter) => ({
          Name: parameter.name,
          Type: parameter.type,
          Value: parameter.value,
          Version: 1,
          LastModifiedDate: parameter.lastModified,
          ARN: `${this.#arnPrefix}${parameter.name}`,
          DataType: 'text',
        })),
        ...(end < matching.length ? { NextToken: Buffer.from(JSON.stringify({ query, offset: end })).toString('base64url') } : {}),
      },
    };
  }
}

/** A token this stand-in issued: opaque to the caller, bound to the query it pages. */
function readToken(token: unknown): { query: string; offset: number } | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { query?: unknown; offset?: unknown };
    return typeof parsed.query === 'string' && Number.isInteger(parsed.offset) ? { query: parsed.query, offset: parsed.offset as number } : undefined;
  } catch {
    return undefined;
  }
}
