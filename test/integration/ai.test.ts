import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hasPgvector, nearestEmbeddings } from '../../shared/ai/similarity.ts';
import { aiTasks } from '../../shared/tasks/ai.ts';
import { aiServices } from '../../shared/ai/service.ts';
import { envelope, sendBodies } from '../support/consumer.ts';
import { databaseKind } from '../support/database.ts';
import { startOpenAiFixture } from '../support/openai-fixture.ts';
import { queueDepth } from '../support/sqs.ts';
import { taskSuite } from '../support/task-suite.ts';
import { waitFor } from '../support/wait.ts';

describe(`AI tasks through the OpenAI SDK against a local double (${databaseKind})`, () => {
  let openai: Awaited<ReturnType<typeof startOpenAiFixture>>;
  beforeAll(async () => {
    openai = await startOpenAiFixture();
  });
  afterAll(async () => openai.stop());
  beforeEach(() => {
    openai.state.failures.length = 0;
  });
  const { suite, start, finished } = taskSuite({
    queueName: 'ai',
    implementations: aiTasks,
    services: aiServices,
    env: () => ({ OPENAI_API_KEY: 'sk-test-local', OPENAI_BASE_URL: openai.baseUrl }),
  });

  it('answers a prompt and stores the answer and token usage for the user', async () => {
    const task = envelope('app.tasks.ai_tasks.process_ai_request', { userId: 42, prompt: 'summarise three rows', model: 'gpt-test', options: { temperature: 0.2 } });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await finished(task.id);

    expect(JSON.parse(row.result!)).toEqual({ answer: 'echo: summarise three rows', model: 'gpt-test', usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 } });
    expect(openai.state.requests.at(-1)!.body).toMatchObject({ model: 'gpt-test', temperature: 0.2, messages: [{ role: 'user', content: 'summarise three rows' }] });
    expect(await suite.db.database.rows(sql`select user_id, answer, total_tokens from ai_requests where task_id = ${task.id}`)).toEqual([{ user_id: 42, answer: 'echo: summarise three rows', total_tokens: 7 }]);
  });

  it("waits out a 429 for as long as Retry-After says, without the policy's back-off", async () => {
    openai.state.failures.push({ status: 429, retryAfter: 2 });
    const task = envelope('ai.process_ai_request', { userId: 1, prompt: 'hello' });
    const sentAt = Date.now();
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await finished(task.id);

    expect(row.attempts).toBe(2);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(2_000);
    const [first] = await suite.db.database.rows<{ error: string }>(sql`select error from task_attempts where task_id = ${task.id} and attempt = 1`);
    expect(first!.error).toMatch(/^RetryLaterError: OpenAI 429 rate_limit_exceeded/);
  });

  it('retries a server error and fails a bad request at once', async () => {
    openai.state.failures.push({ status: 503 });
    const retried = envelope('ai.process_ai_request', { userId: 1, prompt: 'again' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(retried)]);
    expect((await finished(retried.id)).attempts).toBe(2);

    openai.state.failures.push({ status: 400 });
    const refused = envelope('ai.process_ai_request', { userId: 1, prompt: 'bad' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(refused)]);
    const row = await finished(refused.id, 'FAILURE');
    expect(row.attempts).toBe(1);
    expect(row.error).toMatch(/^PermanentError: OpenAI 400 invalid_request_error/);
  });

  it('fails a task at once, saying what to set, when the OpenAI key is missing: a retry would meet the same missing key', async () => {
    await suite.consumer?.stop();
    start({ OPENAI_API_KEY: undefined });
    const task = envelope('ai.process_ai_request', { userId: 1, prompt: 'no key' });
    const requests = openai.state.requests.length;
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(task)]);

    const row = await finished(task.id, 'FAILURE');

    expect(row.attempts).toBe(1);
    expect(row.error).toMatch(/^ConfigError: openai-api-key is not configured: set OPENAI_API_KEY_SECRET_ID \(a Secrets Manager secret name\) or, locally, OPENAI_API_KEY/);
    // Straight to the dead-letter queue, where a redrive runs it once the key is set: no retry is left to come.
    await waitFor(async () => (await queueDepth(suite.emulator.sqs, suite.queue.deadLetterUrl)) === 1, 10_000, 'the message in the dead-letter queue');
    expect(await queueDepth(suite.emulator.sqs, suite.queue.url)).toBe(0);
    expect(await suite.db.database.rows(sql`select attempt from task_attempts where task_id = ${task.id}`)).toEqual([{ attempt: 1 }]);
    expect(openai.state.requests.length).toBe(requests);
  });

  it('embeds texts in batches and replaces rather than duplicates them when run again', async () => {
    const texts = Array.from({ length: 5 }, (_, i) => `text number ${i}`);
    const first = envelope('ai.generate_embeddings', { userId: 5, texts });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(first)]);
    expect(JSON.parse((await finished(first.id)).result!)).toEqual({ embedded: 5, requests: 1, model: 'text-embedding-3-small' });

    const again = envelope('ai.generate_embeddings', { userId: 5, texts: texts.slice(0, 3) });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(again)]);
    await finished(again.id);

    // A text given twice is embedded once, not refused by its own upsert.
    const twice = envelope('ai.generate_embeddings', { userId: 5, texts: [texts[0]!, texts[1]!, texts[0]!] });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(twice)]);
    expect(JSON.parse((await finished(twice.id)).result!)).toMatchObject({ embedded: 2 });

    const rows = await suite.db.database.rows<{ n: number; first: string }>(sql`select count(*)::int as n, (select vector::text from embeddings where user_id = 5 order by content limit 1) as first from embeddings where user_id = 5`);
    expect(rows[0]!.n).toBe(5);
    // pgvector prints `[13,0,0.5]`, a float8[] prints `{13,0,0.5}`.
    expect(JSON.parse(rows[0]!.first.replace('{', '[').replace('}', ']'))).toEqual([13, 0, 0.5]);
  });

  it(`stores vectors as ${databaseKind === 'pglite' ? "pgvector's vector type" : 'double precision[] (this server has no pgvector)'} and finds a user's nearest chunks`, async () => {
    const texts = ['a', 'bb', 'ccc', 'dddd'];
    const mine = envelope('ai.generate_embeddings', { userId: 7, texts });
    const theirs = envelope('ai.generate_embeddings', { userId: 8, texts: ['ddd'] });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(mine), JSON.stringify(theirs)]);
    await finished(mine.id);
    await finished(theirs.id);

    // PGlite ships pgvector, as Aurora does; Debian's PostgreSQL 15 here does not.
    expect(await hasPgvector(suite.db.database)).toBe(databaseKind === 'pglite');
    // The double embeds a text as [length, index in its request, 0.5].
    const nearest = await nearestEmbeddings(suite.db.database, { userId: 7, vector: [3, 2, 0.5], model: 'text-embedding-3-small', limit: 3 });
    expect(nearest.map((row) => row.content)).toEqual(['ccc', 'dddd', 'bb']);
    expect(nearest[0]!.distance).toBeCloseTo(0, 6);
    const cosine = (a: number[], b: number[]) => 1 - a.reduce((sum, x, i) => sum + x * b[i]!, 0) / (Math.hypot(...a) * Math.hypot(...b));
    expect(nearest[1]!.distance).toBeCloseTo(cosine([4, 3, 0.5], [3, 2, 0.5]), 6);
    expect(await nearestEmbeddings(suite.db.database, { userId: 7, vector: [3, 2, 0.5], model: 'another-model' })).toEqual([]);
    expect(await nearestEmbeddings(suite.db.database, { userId: 7, vector: [3, 2], model: 'text-embedding-3-small' })).toEqual([]);
    await expect(nearestEmbeddings(suite.db.database, { userId: 7, vector: [], model: 'text-embedding-3-small' })).rejects.toThrow(/non-empty/);
  });

  it("embeds a user's document in chunks, and only that user's", async () => {
    await suite.db.database.rows(sql`insert into documents (id, user_id, content) values ('doc-1', 9, ${'x'.repeat(13_000)})`);
    const mine = envelope('ai.generate_embeddings', { userId: 9, documentId: 'doc-1' });
    const theirs = envelope('ai.generate_embeddings', { userId: 10, documentId: 'doc-1' });
    await sendBodies(suite.emulator.sqs, suite.queue.url, [JSON.stringify(mine), JSON.stringify(theirs)]);

    expect(JSON.parse((await finished(mine.id)).result!)).toMatchObject({ embedded: 3, requests: 1 });
    expect((await finished(theirs.id, 'FAILURE')).error).toContain('user 10 has no document doc-1');
    expect(await suite.db.database.rows(sql`select chunk, length(content) as length from embeddings where source = 'document:doc-1' order by chunk`)).toEqual([
      { chunk: 0, length: 6000 },
      { chunk: 1, length: 6000 },
      { chunk: 2, length: 1000 },
    ]);
  });
});
