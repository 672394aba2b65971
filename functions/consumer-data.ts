import { dataConsumer } from '../shared/consumers/data.ts';

/** Consumer of the `data` queue, configured from the process environment at cold start. */
export const handler = dataConsumer(process.env);
