import { queueNames, type QueueName } from '../../../shared/catalogue/index.ts';
import { TaskProducer } from '../../../shared/producer/producer.ts';
import { chain, chord, group, signature } from '../../../shared/producer/workflow.ts';
import { errbackIdFor } from '../../../shared/runtime/workflow-failure.ts';
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

/** A chord inside a chain, one of whose members is a chain: every level's counter and follow-up from the bundles. */
export const nestedWorkflow: Check = {
  name: 'a chain holding a chord of a task and a chain completes, its callback once',
  timeoutMs: 90_000,
  async run(rehearsal) {
    const echoing = () => signature('default.noop', {}, { resultAs: 'echo' });
    const workflow = chain(signature('default.noop', { echo: 'a' }), chord([echoing(), chain(echoing(), echoing())], echoing()));
    const result = await producerOf(rehearsal).apply(workflow);
    const expected = { echo: [{ echo: { echo: 'a' } }, { echo: { echo: { echo: 'a' } } }] };
    try {
      const value = await result.get({ timeout: 60_000 });
      if (JSON.stringify(value) !== JSON.stringify(expected)) throw new Error(`the workflow's result is ${JSON.stringify(value)}`);
      const info = await result.info();
      if (info?.attempts !== 1) throw new Error(`the callback ran ${info?.attempts} times`);
      return `result ${JSON.stringify(value)}`;
    } catch (error) {
      throw failure(`the nested workflow did not complete: ${(error as Error).message}`, rehearsal);
    }
  },
};

/** A task that fails for good sends its error callback, which another queue's consumer runs. */
export const errbackRuns: Check = {
  name: "a data task that fails for good sends its link_error callback to the default queue, once",
  timeoutMs: 90_000,
  async run(rehearsal) {
    const errback = signature('default.noop', { echo: 'errback' }, { immutable: true });
    const producer = producerOf(rehearsal);
    const failed = await producer.send('data.process_file_upload', { uploadId: 'up-missing' }, { linkError: [errback] });
    try {
      const outcome = await failed.wait({ timeout: 60_000 });
      if (outcome.status !== 'FAILURE') throw new Error(`the failing task ended ${outcome.status}`);
      const errbackResult = producer.result(errbackIdFor(errback, failed.id));
      const value = await errbackResult.get({ timeout: 60_000 });
      if (JSON.stringify(value) !== JSON.stringify({ echo: 'errback' })) throw new Error(`the errback returned ${JSON.stringify(value)}`);
      const runs = (await errbackResult.info())?.attempts;
      if (runs !== 1) throw new Error(`the errback ran ${runs} times`);
      return `errback result ${JSON.stringify(value)} after ${outcome.error}`;
    } catch (error) {
      throw failure(`the error callback did not run: ${(error as Error).message}`, rehearsal);
    }
  },
};
