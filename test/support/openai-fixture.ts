import { startOpenAiStandIn } from '../../shared/local/stand-ins/openai.ts';
import type { OpenAiAnswers } from '../../shared/local/stand-ins/openai-answers.ts';

/** Answers a test can spell out: the prompt echoed, a word count for tokens, a three-component vector. */
const echoAnswers: OpenAiAnswers = {
  chat(prompt) {
    const words = prompt.split(/\s+/).length;
    return { content: `echo: ${prompt}`, promptTokens: words, completionTokens: words + 1 };
  },
  embed: (text, index) => [text.length, index, 0.5],
};

/**
 * The local cloud's OpenAI stand-in with answers the tests can predict and every request
 * kept, so the official SDK runs unchanged against it.
 */
export async function startOpenAiFixture() {
  return startOpenAiStandIn({ apiKey: 'sk-test-local', answers: echoAnswers, recordRequests: true });
}
