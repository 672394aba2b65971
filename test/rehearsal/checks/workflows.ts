import { queueNames, type QueueName } from '../../../shared/catalogue/index.ts';
import { TaskProducer } from '../../../shared/producer/producer.ts';
import { chain, chord, group, signature } from '../../../shared/producer/workflow.ts';
import type { Rehearsal } from '../rehearsal.ts';
import { userId } from '../seeds.ts';
import { failure, type Check } from './check.ts';
import { stage } from './tasks.ts';

/** The producer SDK as another service uses it, sending to the template's queues and reading the result store. */
function producerOf(rehearsal: Rehearsal): TaskProducer {
  const queueUrls = Object.fromEntries(queueNames.map((name) => [name, rehearsal.queueUrl(`${stage(rehearsal)}-${name}`)])) as Record<QueueName, string>;
  return new TaskProducer({ longDelays: null, sqs: rehearsal.operator.sqs, queueUrls, database: rehearsal.database });
}

/** The step after the first goes to the consumer's own queue: the consumer sends it. */
export const chainOnOneQueue: Check = {
  name: 'a chain default → default completes (the consumer sends the next step to its own queue)',
  timeoutMs: 90_000,
  async run(rehearsal) {
    const result = await producerOf(rehearsal).apply(chain(signature('default.noop', { echo: 'first' }), signature('default.noop', {}, { resultAs: 'echo' })));
    try {
      const value = await result.get({ timeout: 60_000 });
      if (JSON.stringify(value) !== JSON.stringify({ echo: { echo: 'first' } })) throw new Error(`the chain's result is ${JSON.stringify(value)}`);
      return `result ${JSON.stringify(value)}`;
    } catch (error) {
      throw failure(`the chain did not complete: ${(error as Error).message}`, rehearsal);
    }
  },
};

/** Members on two queues; the member that completes the chord sends the callback, wherever it runs. */
export const chordAcrossQueues: Check = {
  name: 'a chord with members on the default and ai queues completes',
  timeoutMs: 90_000,
  async run(rehearsal) {
    const members = [signature('default.noop', { echo: 1 }), signature('ai.generate_embeddings', { userId, texts: ['a chord member'] })];
    const result = await producerOf(rehearsal).apply(chord(group(members), signature('default.noop', {}, { resultAs: 'echo' })));
    try {
      const value = (await result.get({ timeout: 60_000 })) as { echo: [{ echo: number }, { embedded: number }] };
      if (value.echo[0].echo !== 1 || value.echo[1].embedded !== 1) throw new Error(`the callback got ${JSON.stringify(value)}`);
      return `callback result ${JSON.stringify(value)}`;
    } catch (error) {
      throw failure(`the chord did not complete: ${(error as Error).message}`, rehearsal);
    }
  },
};
