import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { resourcesOfType, type Template } from '../assembly.ts';
import { resolve, type LocalValues } from '../environment.ts';

/** CloudFormation properties of AWS::SQS::Queue that are not queue attributes. */
const notAttributes = new Set(['QueueName', 'Tags']);

/**
 * Creates the template's queues with their own properties as attributes (the property
 * names are SQS's attribute names; RedrivePolicy is passed as its JSON), dead-letter
 * queues first, as CloudFormation orders them by reference.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html
 */
export async function createQueues(template: Template, values: LocalValues, sqs: SQSClient): Promise<Map<string, string>> {
  const queues = resourcesOfType(template, 'AWS::SQS::Queue').sort(([, a], [, b]) => Number(a.Properties?.RedrivePolicy !== undefined) - Number(b.Properties?.RedrivePolicy !== undefined));
  const urls = new Map<string, string>();
  for (const [id, resource] of queues) {
    const properties = resolve(resource.Properties ?? {}, values) as Record<string, unknown>;
    const attributes = Object.fromEntries(Object.entries(properties).filter(([name]) => !notAttributes.has(name)).map(([name, value]) => [name, typeof value === 'object' ? JSON.stringify(value) : String(value)]));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: values.attribute(id, 'QueueName'), Attributes: attributes }));
    // fauxqs names its own host in the URL it answers and finds a queue by the URL's path, as SQS by account and name.
    const path = (url: string | undefined) => new URL(url ?? 'http://none').pathname;
    if (path(QueueUrl) !== path(values.ref(id))) throw new Error(`queue ${id}: the emulator answered ${QueueUrl}, the environment says ${values.ref(id)}`);
    await expectAttributes(sqs, QueueUrl!, attributes);
    urls.set(id, values.ref(id));
  }
  return urls;
}

/** The emulator must hold what the template says (an attribute it ignored would make the rehearsal lie). */
async function expectAttributes(sqs: SQSClient, url: string, expected: Record<string, string>): Promise<void> {
  const { Attributes = {} } = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))) as { Attributes?: Record<string, string> };
  const same = (name: string, value: string) => (name === 'RedrivePolicy' ? JSON.stringify(JSON.parse(Attributes[name] ?? '{}')) === JSON.stringify(JSON.parse(value)) : Attributes[name] === value);
  const differing = Object.entries(expected).filter(([name, value]) => !same(name, value));
  if (differing.length > 0) throw new Error(`${url}: the emulator did not take ${differing.map(([name, value]) => `${name}=${value} (has ${Attributes[name]})`).join(', ')}`);
}

/** Creates the template's buckets under the names the functions are given. */
export async function createBuckets(template: Template, values: LocalValues, s3: S3Client): Promise<string[]> {
  const names = resourcesOfType(template, 'AWS::S3::Bucket').map(([id]) => values.ref(id));
  for (const name of names) await s3.send(new CreateBucketCommand({ Bucket: name }));
  return names;
}
