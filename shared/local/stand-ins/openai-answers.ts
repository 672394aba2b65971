import { createHash } from 'node:crypto';

/** What the stand-in says to one chat completion: the text and its token counts. */
export interface ChatAnswer {
  readonly content: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** How the stand-in answers: the test fixtures swap in answers their assertions can spell out. */
export interface OpenAiAnswers {
  chat(prompt: string, model: string): ChatAnswer;
  embed(text: string, index: number, dimensions: number): number[];
}

/** The dimensions OpenAI's embedding models return when a request names none. */
const modelDimensions: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

export function embeddingDimensions(model: string, requested: unknown): number {
  if (typeof requested === 'number' && Number.isInteger(requested) && requested > 0) return requested;
  return modelDimensions[model] ?? 1536;
}

/** About four characters a token, as OpenAI's tokenizers average on English text; never zero, as the API never says zero. */
export function approximateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * Answers that are the same for the same input on every machine and run, and say plainly
 * that no model wrote them: a prompt's answer names the stand-in and the prompt; a text's
 * vector is a unit vector drawn from its SHA-256, so equal texts are identical (cosine
 * distance 0) and different texts are nearly orthogonal.
 */
export const deterministicAnswers: OpenAiAnswers = {
  chat(prompt, model) {
    const excerpt = prompt.length > 200 ? `${prompt.slice(0, 200)}…` : prompt;
    const words = prompt.split(/\s+/).filter(Boolean).length;
    const content = `[local stand-in] ${model} was not called: this answer is fixed by the prompt (${words} words, ${prompt.length} characters): "${excerpt}"`;
    return { content, promptTokens: approximateTokens(prompt), completionTokens: approximateTokens(content) };
  },
  embed(text, _index, dimensions) {
    return unitVectorOf(text, dimensions);
  },
};

/** A unit vector of `dimensions` components from the hash of `text`: SHA-256 in counter mode, each 4 bytes one component in [-1, 1]. */
export function unitVectorOf(text: string, dimensions: number): number[] {
  const components: number[] = [];
  for (let block = 0; components.length < dimensions; block++) {
    const digest = createHash('sha256').update(`${block}:${text}`).digest();
    for (let offset = 0; offset < digest.length && components.length < dimensions; offset += 4) {
      components.push(digest.readUInt32LE(offset) / 0x7fffffff - 1);
    }
  }
  const length = Math.hypot(...components) || 1;
  return components.map((value) => value / length);
}
