import { createHash } from 'node:crypto';
import { parseDuration, type TaskDefinition } from '../catalogue/index.ts';

/** A JSON value with its object keys sorted, so equal payloads give equal text whatever order their fields came in. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical((value as Record<string, unknown>)[key])]));
}

/**
 * The key of a unique or debounced task: its name and what the producer gave, or a digest
 * of its payload's `fields` (the whole payload without them). Two sends of one task with
 * the same key within the window are the same request.
 */
export function dedupeKeyOf(task: string, payload: Readonly<Record<string, unknown>>, fields: readonly string[] | undefined, given?: string): string {
  if (given !== undefined) return `${task}:${given}`;
  const picked = fields ? Object.fromEntries(fields.map((field) => [field, payload[field] ?? null])) : payload;
  return `${task}#${createHash('sha256').update(JSON.stringify(canonical(picked))).digest('hex').slice(0, 32)}`;
}

/** A task's deduplication rule from the catalogue, or undefined. */
export function keyRule(definition: TaskDefinition): { readonly mode: 'unique' | 'debounce'; readonly seconds: number } | undefined {
  if (definition.unique !== undefined) return { mode: 'unique', seconds: parseDuration(definition.unique)! };
  if (definition.debounce !== undefined) return { mode: 'debounce', seconds: parseDuration(definition.debounce)! };
  return undefined;
}
