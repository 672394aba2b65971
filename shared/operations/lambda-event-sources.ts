import type * as LambdaApi from '@aws-sdk/client-lambda';
import type { EventSourceMappingConfiguration, LambdaClient } from '@aws-sdk/client-lambda';
import { queueNames, type QueueName } from '../catalogue/index.ts';
import type { EventSources, EventSourceView } from './event-sources.ts';

type Mapping = Pick<EventSourceMappingConfiguration, 'UUID' | 'State' | 'EventSourceArn' | 'ScalingConfig'>;
type LambdaSdk = typeof LambdaApi;

/** Loaded on first use: only `taskq --stage … control pause|resume` and `inspect stats` reach Lambda's API. */
const loadSdk = (): Promise<LambdaSdk> => import('@aws-sdk/client-lambda');

/**
 * The stage's event source mappings, two per consumer function (`<stage>-consumer-<queue>`,
 * as the stack names them): its queue's and its high-priority lane's (`<stage>-<queue>-high`),
 * through Lambda's API with the operator's credentials: `lambda:ListEventSourceMappings` and
 * `lambda:UpdateEventSourceMapping`.
 */
export class LambdaEventSources implements EventSources {
  readonly #region: string;
  readonly #functionOf: (queue: QueueName) => string;
  #client: Promise<{ sdk: LambdaSdk; client: LambdaClient }> | undefined;

  constructor(options: { region: string; functionOf: (queue: QueueName) => string }) {
    this.#region = options.region;
    this.#functionOf = options.functionOf;
  }

  async list(): Promise<EventSourceView[]> {
    return Promise.all(queueNames.map(async (queue) => view(queue, await this.#mappings(queue))));
  }

  async setEnabled(queue: QueueName, enabled: boolean): Promise<EventSourceView> {
    const { sdk, client } = await this.#lambda();
    const { normal, high } = await this.#mappings(queue);
    if (!normal?.UUID) throw new Error(`${this.#functionOf(queue)} has no SQS event source mapping`);
    const update = (mapping: Mapping) => client.send(new sdk.UpdateEventSourceMappingCommand({ UUID: mapping.UUID!, Enabled: enabled }));
    const [updated, updatedHigh] = await Promise.all([update(normal), high?.UUID ? update(high) : undefined]);
    return view(queue, { normal: updated, high: updatedHigh });
  }

  close(): void {
    void this.#client?.then(({ client }) => client.destroy(), () => undefined);
  }

  async #mappings(queue: QueueName): Promise<{ normal: Mapping | undefined; high: Mapping | undefined }> {
    const { sdk, client } = await this.#lambda();
    const found: Mapping[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(new sdk.ListEventSourceMappingsCommand({ FunctionName: this.#functionOf(queue), ...(marker ? { Marker: marker } : {}) }));
      found.push(...(page.EventSourceMappings ?? []));
      marker = page.NextMarker;
    } while (marker);
    const sqs = found.filter((mapping) => mapping.EventSourceArn?.includes(':sqs:'));
    const isHigh = (mapping: Mapping) => mapping.EventSourceArn?.endsWith('-high') === true;
    return { normal: sqs.find((mapping) => !isHigh(mapping)) ?? found[0], high: sqs.find(isHigh) };
  }

  #lambda() {
    return (this.#client ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.LambdaClient({ region: this.#region }) })));
  }
}

function view(queue: QueueName, mappings: { normal: Mapping | undefined; high: Mapping | undefined }): EventSourceView {
  const lane = (mapping: Mapping | undefined) => ({ state: mapping?.State ?? 'NotFound', maximumConcurrency: mapping?.ScalingConfig?.MaximumConcurrency ?? null });
  return { queue, ...lane(mappings.normal), highPriority: mappings.high ? lane(mappings.high) : null };
}
