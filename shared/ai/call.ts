/**
 * Runs an OpenAI call and rethrows its failure classified (shared/ai/openai.ts). The
 * classifier comes with the SDK, which the client has loaded by the time a call fails, so
 * the tasks reach the SDK only through a dynamic import and it stays out of the cold start.
 */
export async function openAiCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw (await import('./openai.ts')).classifyOpenAiError(error);
  }
}
