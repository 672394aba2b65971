import { defaultConsumer } from '../shared/consumers/default.ts';

/** Consumer of the `default` queue, configured from the process environment at cold start. */
export const handler = defaultConsumer(process.env);
