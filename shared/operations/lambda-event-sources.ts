import type * as LambdaApi from '@aws-sdk/client-lambda';
import type { EventSourceMappingConfiguration, LambdaClient } from '@aws-sdk/client-lambda';
import { queueNames, type QueueName } from '../catalogue/index.ts';
import type { EventSources, EventSourceView } from './event-sources.ts';

type Mapping = Pick<EventSourceMappingConfiguration, 'UUID' | 'State' | 'EventSourceArn' | 'ScalingConfig'>;
type LambdaSdk = typeof LambdaApi;

/** Loaded on first use: only `taskq --stage … control pause|resume` and `inspect stats` reach Lambda's API. */
const loadSdk = (): Promise<LambdaSdk> => import('@aws-sdk/client-lambda');

/**
 * The stage's event source mappings, one per consumer function (`<stage>-consumer-<queue>`,
 * as the stack names them), through Lambda's API with the operator's credentials:
 * `lambda:ListEventSourceMappings` and `lambda:UpdateEventSourceMapping`.
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
    return Promise.all(queueNames.map(async (queue) => view(queue, await this.#mapping(queue))));
  }

  async setEnabled(queue: QueueName, enabled: boolean): Promise<EventSourceView> {
    const { sdk, client } = await this.#lambda();
    const mapping = await this.#mapping(queue);
    if (!mapping?.UUID) throw new Error(`${this.#functionOf(queue)} has no SQS event source mapping`);
    return view(queue, await client.send(new sdk.UpdateEventSourceMappingCommand({ UUID: mapping.UUID, Enabled: enabled })));
  }

  close(): void {
    void this.#client?.then(({ client }) => client.destroy(), () => undefined);
  }

  async #mapping(queue: QueueName): Promise<Mapping | undefined> {
    const { sdk, client } = await this.#lambda();
    const found: Mapping[] = [];
    let marker: string | undefined;
    do {
      const page = await client.send(new sdk.ListEventSourceMappingsCommand({ FunctionName: this.#functionOf(queue), ...(marker ? { Marker: marker } : {}) }));
      found.push(...(page.EventSourceMappings ?? []));
      marker = page.NextMarker;
    } while (marker);
    return found.find((mapping) => mapping.EventSourceArn?.includes(':sqs:')) ?? found[0];
  }

  #lambda() {
    return (this.#client ??= loadSdk().then((sdk) => ({ sdk, client: new sdk.LambdaClient({ region: this.#region }) })));
  }
}

function view(queue: QueueName, mapping: Mapping | undefined): EventSourceView {
  return { queue, state: mapping?.State ?? 'NotFound', maximumConcurrency: mapping?.ScalingConfig?.MaximumConcurrency ?? null };
}
