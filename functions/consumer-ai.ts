import { aiConsumer } from '../shared/consumers/ai.ts';

/** Consumer of the `ai` queue, configured from the process environment at cold start. */
export const handler = aiConsumer(process.env);
