import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { openAiCall } from '../ai/call.ts';
import { tasks } from '../catalogue/index.ts';
import { PermanentError } from '../errors.ts';
import type { AiServices } from '../ai/service.ts';
import { implementWith } from '../runtime/task.ts';

const implementAi = implementWith<AiServices>();

/** One LLM request; the answer and its token usage are stored under the task id. */
export const processAiRequest = implementAi(tasks['ai.process_ai_request'], async ({ userId, prompt, model, options }, { id, database, services, signal }) => {
  const openai = await services.openai();
  const chosen = model ?? services.chatModel;
  const completion = await openAiCall(() =>
    openai.chat.completions.create({ ...(options ?? {}), model: chosen, messages: [{ role: 'user', content: prompt }], stream: false }, { signal }),
  );
  const answer = completion.choices[0]?.message?.content ?? null;
  const usage = completion.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  await database.rows(sql`
    insert into ai_requests (task_id, user_id, model, prompt, answer, prompt_tokens, completion_tokens, total_tokens)
    values (${id}, ${userId}, ${completion.model || chosen}, ${prompt}, ${answer}, ${usage.prompt_tokens}::int, ${usage.completion_tokens}::int, ${usage.total_tokens}::int)
    on conflict (task_id) do update set answer = excluded.answer, model = excluded.model, prompt_tokens = excluded.prompt_tokens,
      completion_tokens = excluded.completion_tokens, total_tokens = excluded.total_tokens`);
  return { answer, model: completion.model || chosen, usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens, totalTokens: usage.total_tokens } };
});

/** OpenAI's embeddings endpoint takes at most 2048 inputs; a character budget keeps a request under its token limit. */
const maxInputsPerRequest = 2048;
const maxCharactersPerRequest = 600_000;
/** Documents are embedded in chunks of about this many characters (≈ 1500 tokens). */
const chunkCharacters = 6_000;

/** Embeds a stored document or a list of texts; embedding the same source again replaces its rows. */
export const generateEmbeddings = implementAi(tasks['ai.generate_embeddings'], async (payload, { database, services, signal }) => {
  const { userId } = payload;
  let items: { source: string; chunk: number; content: string }[];
  if ('documentId' in payload) {
    const [document] = await database.rows<{ content: string }>(sql`select content from documents where id = ${payload.documentId} and user_id = ${userId}`);
    if (!document) throw new PermanentError(`user ${userId} has no document ${payload.documentId}`);
    items = chunks(document.content).map((content, chunk) => ({ source: `document:${payload.documentId}`, chunk, content }));
  } else {
    // A text given twice is one row: one upsert cannot write the same row twice.
    items = [...new Set(payload.texts)].map((content) => ({ source: `text:${createHash('sha256').update(content).digest('hex')}`, chunk: 0, content }));
  }
  const openai = await services.openai();
  const model = services.embeddingModel;
  let requests = 0;
  for (const batch of batches(items)) {
    const response = await openAiCall(() => openai.embeddings.create({ model, input: batch.map((item) => item.content) }, { signal }));
    requests++;
    const rows = batch.map((item, index) => ({ ...item, vector: response.data.find((d) => d.index === index)?.embedding }));
    if (rows.some((row) => !row.vector)) throw new Error('the embeddings response left out an input');
    await database.rows(sql`
      insert into embeddings (user_id, source, chunk, content, model, vector)
      select ${userId}::int, r.source, r.chunk, r.content, ${model}, array(select jsonb_array_elements_text(r.vector)::float8)
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(source text, chunk int, content text, vector jsonb)
      on conflict (user_id, source, chunk) do update set content = excluded.content, model = excluded.model, vector = excluded.vector, created_at = now()`);
    if ('documentId' in payload) {
      // A shorter new version of the document leaves no stale chunks behind.
      await database.rows(sql`delete from embeddings where user_id = ${userId}::int and source = ${`document:${payload.documentId}`} and chunk >= ${items.length}::int`);
    }
  }
  return { embedded: items.length, requests, model };
});

function chunks(text: string): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += chunkCharacters) parts.push(text.slice(start, start + chunkCharacters));
  return parts.length > 0 ? parts : [''];
}

function* batches<T extends { content: string }>(items: readonly T[]): Generator<T[]> {
  let batch: T[] = [];
  let characters = 0;
  for (const item of items) {
    if (batch.length === maxInputsPerRequest || (batch.length > 0 && characters + item.content.length > maxCharactersPerRequest)) {
      yield batch;
      batch = [];
      characters = 0;
    }
    batch.push(item);
    characters += item.content.length;
  }
  if (batch.length > 0) yield batch;
}

/** The `ai` queue's tasks. */
export const aiTasks = [processAiRequest, generateEmbeddings];
