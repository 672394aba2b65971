import OpenAI from 'openai';
import type { Environment } from '../config.ts';
import { PermanentError, RetryLaterError } from '../errors.ts';
import { readSecret } from '../secrets.ts';

/**
 * The official OpenAI client, built once per process. `OPENAI_BASE_URL` points it at any
 * OpenAI-compatible server (vLLM, Ollama). Its own retries are off: the task's retry
 * policy decides, and honours Retry-After.
 */
export async function createOpenAi(env: Environment): Promise<OpenAI> {
  return new OpenAI({
    apiKey: await readSecret('openai-api-key', env),
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    maxRetries: 0,
    timeout: 120_000,
  });
}

/**
 * Steers an OpenAI failure: 429 waits for Retry-After, 5xx, 408, 409 and network trouble
 * retry with back-off, and any other 4xx (bad request, auth, not found) is permanent. A
 * call the task's own signal ended (its soft time limit, a revocation) is an AbortError,
 * which the runtime reads as the signal's reason: never a permanent failure of the request.
 */
export function classifyOpenAiError(error: unknown): Error {
  if (error instanceof OpenAI.APIUserAbortError) return Object.assign(new Error(error.message, { cause: error }), { name: 'AbortError' });
  if (error instanceof OpenAI.APIConnectionError) return new Error(`OpenAI unreachable: ${error.message}`, { cause: error });
  if (!(error instanceof OpenAI.APIError)) return error instanceof Error ? error : new Error(String(error));
  const message = `OpenAI ${error.status ?? ''} ${error.type ?? ''}: ${error.message}`.replace(/\s+/g, ' ');
  const status = error.status ?? 0;
  if (status === 429) {
    const seconds = retryAfterSeconds(error.headers);
    return seconds !== undefined ? new RetryLaterError(message, { countdownSeconds: seconds, cause: error }) : new Error(message, { cause: error });
  }
  if (status >= 500 || status === 408 || status === 409) return new Error(message, { cause: error });
  return new PermanentError(message, { cause: error });
}

function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return Math.ceil(ms / 1000);
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}
