import { randomUUID } from 'node:crypto';
import type { Template } from '../assembly.ts';
import { resolve, stackIdOf, type LocalValues } from '../environment.ts';

export interface XmlAnswer {
  readonly status: number;
  readonly body: string;
}

interface TemplateOutput {
  readonly Value: unknown;
  readonly Description?: string;
  readonly Export?: { readonly Name: unknown };
  readonly Condition?: string;
}

// The service's XML namespace and result wrapper: boto/botocore botocore/data/cloudformation/2010-05-15/service-2.json.
const namespace = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const apiVersion = '2010-05-15';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
const element = (name: string, value: string | undefined) => (value === undefined ? '' : `<${name}>${escape(value)}</${name}>`);

/**
 * CloudFormation's query protocol (form-encoded `Action=DescribeStacks&Version=2010-05-15`,
 * XML answers) for the one stack the rehearsal deployed: DescribeStacks with the template's
 * Outputs resolved to their local values, and a stack it does not hold refused with
 * ValidationError as the service refuses it. https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
 */
export class CloudFormationStandIn {
  readonly #stackName: string;
  readonly #stackId: string;
  readonly #outputs: Record<string, TemplateOutput>;
  readonly #values: LocalValues;
  readonly #createdAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

  constructor(stack: { stackName: string; template: Template; values: LocalValues; region: string; account: string }) {
    this.#stackName = stack.stackName;
    this.#stackId = stackIdOf(stack.stackName);
    this.#outputs = (stack.template as Template & { Outputs?: Record<string, TemplateOutput> }).Outputs ?? {};
    this.#values = stack.values;
  }

  /** The stack's ARN (its stack id) for its name or id, when it is the stack held here. */
  stackArn(nameOrId: string): string | undefined {
    return nameOrId === this.#stackName || nameOrId === this.#stackId ? this.#stackId : undefined;
  }

  handle(form: URLSearchParams): XmlAnswer {
    const action = form.get('Action') ?? '';
    if (action !== 'DescribeStacks') return failure(400, 'InvalidAction', `Could not find operation ${action} for version ${form.get('Version') ?? apiVersion}`);
    const name = form.get('StackName');
    if (name !== null && !this.stackArn(name)) return failure(400, 'ValidationError', `Stack with id ${name} does not exist`);
    return {
      status: 200,
      body: `<DescribeStacksResponse xmlns="${namespace}"><DescribeStacksResult><Stacks><member>${this.#stack()}</member></Stacks></DescribeStacksResult>${metadata()}</DescribeStacksResponse>`,
    };
  }

  #stack(): string {
    const outputs = Object.entries(this.#outputs).map(([key, output]) => {
      // A condition decides whether the output exists; the rehearsal does not evaluate conditions.
      if (output.Condition) throw new Error(`output ${key} has a condition the rehearsal does not evaluate`);
      const exportName = output.Export ? String(resolve(output.Export.Name, this.#values)) : undefined;
      return `<member>${element('OutputKey', key)}${element('OutputValue', String(resolve(output.Value, this.#values)))}${element('Description', output.Description)}${element('ExportName', exportName)}</member>`;
    });
    return [
      element('StackId', this.#stackId),
      element('StackName', this.#stackName),
      element('CreationTime', this.#createdAt),
      element('StackStatus', 'CREATE_COMPLETE'),
      element('DisableRollback', 'false'),
      `<Outputs>${outputs.join('')}</Outputs>`,
    ].join('');
  }
}

const metadata = () => `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;

/** The query protocol's error document: smithy-lang/smithy smithy-aws-protocol-tests/model/awsQuery/xml-errors.smithy. */
function failure(status: number, code: string, message: string): XmlAnswer {
  return { status, body: `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type>${element('Code', code)}${element('Message', message)}</Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>` };
}
