import type OpenAI from 'openai';
import * as z from 'zod';
import { once, readSettings } from '../services.ts';
import { defaultChatModel, defaultEmbeddingModel } from './models.ts';

/** What the `ai` queue's tasks use: the OpenAI client and the models, read once. */
export interface AiServices {
  openai(): Promise<OpenAI>;
  readonly chatModel: string;
  readonly embeddingModel: string;
}

const settings = z.object({
  OPENAI_MODEL: z.string().min(1).default(defaultChatModel),
  OPENAI_EMBEDDING_MODEL: z.string().min(1).default(defaultEmbeddingModel),
  OPENAI_BASE_URL: z.url().optional(),
});

export function aiServices(env: NodeJS.ProcessEnv): AiServices {
  const { OPENAI_MODEL, OPENAI_EMBEDDING_MODEL } = readSettings('ai', settings, env);
  return {
    // The client waits for its first task: the key is a secret, read when it is needed.
    openai: once(async () => (await import('./openai.ts')).createOpenAi(env)),
    chatModel: OPENAI_MODEL,
    embeddingModel: OPENAI_EMBEDDING_MODEL,
  };
}
