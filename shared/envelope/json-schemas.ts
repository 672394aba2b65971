import * as z from 'zod';
import { tasks } from '../catalogue/index.ts';
import { envelopeV1 } from './envelope.ts';

/**
 * The message contract as JSON Schema, generated from the zod schemas: the envelope and
 * each task's payload, keyed by the file name each is published under in `events/schema/`.
 */
export function messageJsonSchemas(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    'envelope.v1.json': z.toJSONSchema(envelopeV1, { target: 'draft-2020-12' }),
  };
  for (const task of Object.values(tasks)) {
    schemas[`payload/${task.name}.json`] = {
      title: `${task.name} payload`,
      description: task.description,
      ...(task.alias ? { 'x-celery-name': task.alias } : {}),
      'x-queue': task.queue,
      ...z.toJSONSchema(task.payload, { target: 'draft-2020-12', io: 'input' }),
    };
  }
  return schemas;
}
