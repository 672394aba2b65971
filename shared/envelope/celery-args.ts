import * as z from 'zod';

/** Why a Celery message cannot be carried by an envelope: its text is the rejection's reason. */
export class Unmappable extends Error {
  override name = 'Unmappable';
}

/** A task's payload schema by name or alias, or why there is none. */
export type SchemaOf = (task: string) => z.ZodType | string;

/** A Python keyword as the payload field it names: `payment_intent_id` → `paymentIntentId`. */
export const fieldOf = (name: string) => name.replace(/(?<=[A-Za-z0-9])_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());

/**
 * Celery's arguments as a payload: kwargs under camelCase names, after positional args bound
 * to the payload's fields in declared order from `firstField` on (a chain step's earlier
 * fields take the result before it).
 */
export function bindArguments(task: string, args: readonly unknown[], kwargs: Record<string, unknown>, schemaOf: SchemaOf, firstField = 0, where = 'args'): Record<string, unknown> {
  const entries: [string, unknown][] = [];
  const from = new Map<string, string>();
  if (args.length > 0) {
    const fields = positionalFields(task, schemaOf, where).slice(firstField);
    if (args.length > fields.length) {
      throw new Unmappable(`${where}: ${task} takes ${fields.length} positional args (${fields.join(', ')}) but ${args.length} were given`);
    }
    args.forEach((value, index) => {
      entries.push([fields[index]!, value]);
      from.set(fields[index]!, `positional arg ${index}`);
    });
  }
  for (const [name, value] of Object.entries(kwargs)) {
    const field = fieldOf(name);
    const earlier = from.get(field);
    if (earlier) throw new Unmappable(`kwargs: '${name}' and ${earlier} both give '${field}'`);
    entries.push([field, value]);
    from.set(field, `kwarg '${name}'`);
  }
  return Object.fromEntries(entries);
}

/** The payload's fields in declared order: what Celery's positional args bind to. */
export function positionalFields(task: string, schemaOf: SchemaOf, where = 'args'): string[] {
  const schema = schemaOf(task);
  if (typeof schema === 'string') throw new Unmappable(`${where}: positional args need the task's payload fields: ${schema}`);
  if (!(schema instanceof z.ZodObject)) {
    throw new Unmappable(`${where}: ${task}'s payload is a ${schema.def.type}, not one object, so positional args have no order: send kwargs`);
  }
  return Object.keys(schema.shape);
}

/** Parses `value` or throws Unmappable naming the first problem's path. */
export function check<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const [issue] = parsed.error.issues;
  throw new Unmappable(`${[where, ...(issue?.path ?? [])].join('.')}: ${issue?.message ?? 'invalid'}`);
}
