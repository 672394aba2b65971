import { classifiedCall } from '../services.ts';

/** Runs an OpenAI call, its failure classified by shared/ai/openai.ts (loaded only then). */
export function openAiCall<T>(call: () => Promise<T>): Promise<T> {
  return classifiedCall(call, async () => (await import('./openai.ts')).classifyOpenAiError);
}
