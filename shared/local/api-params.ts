import { queueNames, type QueueName } from '../catalogue/index.ts';
import { HttpError } from './http.ts';

/** A whole number from the query, within bounds; anything else is the client's error. */
export function intParam(query: URLSearchParams, name: string, bounds: { min: number; max: number; fallback: number }): number {
  const text = query.get(name);
  if (text === null || text === '') return bounds.fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < bounds.min || value > bounds.max) throw new HttpError(400, `${name} must be a whole number from ${bounds.min} to ${bounds.max}, not ${text.slice(0, 100)}`);
  return value;
}

export function queueParam(queue: string): QueueName {
  if (!(queueNames as string[]).includes(queue)) throw new HttpError(404, `no queue ${queue}; the queues are ${queueNames.join(', ')}`);
  return queue as QueueName;
}
