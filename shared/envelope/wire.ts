import type { z } from 'zod';
import { envelopeV1, workflowProblem, type Envelope } from './envelope.ts';

/**
 * What a consumer refuses in a message before it looks at the task, in one place: the
 * producer SDK and the local API check what they send with the same rules, so no handle
 * is given out for a task that can never run.
 */

/** Deeper JSON would overflow the stack of the validators (zod recurses); real payloads stay far below. */
const maxJsonDepth = 256;

/**
 * JSON.parse, refusing what would break a batch later: `__proto__` keys (copied into a
 * typed object they would replace its prototype), nesting beyond `maxJsonDepth`, and
 * strings PostgreSQL cannot store in jsonb or text (NUL, lone UTF-16 surrogates), which
 * would fail the statement recording the whole batch. The reviver (slower) runs only when
 * such a key or string could be present, escaped or not.
 */
export function parseWireJson(body: string): unknown {
  if (jsonDepth(body) > maxJsonDepth) throw new SyntaxError(`nested deeper than ${maxJsonDepth} levels`);
  if (!body.includes('__proto__') && !body.includes('\\u') && body.isWellFormed()) return JSON.parse(body);
  return JSON.parse(body, (key, value: unknown) => {
    if (key === '__proto__') throw new SyntaxError('the key "__proto__" is not allowed');
    for (const text of typeof value === 'string' ? [key, value] : [key]) {
      if (text.includes('\0')) throw new SyntaxError('a string holds a NUL character (\\u0000), which PostgreSQL cannot store');
      if (!text.isWellFormed()) throw new SyntaxError('a string holds a lone UTF-16 surrogate, which PostgreSQL cannot store');
    }
    return value;
  });
}

/** The deepest nesting of arrays and objects in JSON text, brackets inside strings not counted. */
function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

const timeFields = ['createdAt', 'eta', 'expires'] as const;
const firstStorable = Date.UTC(1, 0, 1);
const lastStorable = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** A time PostgreSQL can store and `toISOString` writes with four digits (there is no year 0). */
function storableTime(value: string): boolean {
  const ms = Date.parse(value);
  return ms >= firstStorable && ms <= lastStorable;
}

/** An envelope the consumer will take, or why not: the schema, then times PostgreSQL can store, then a workflow that can run. */
export function checkEnvelope(json: unknown): { ok: true; envelope: Envelope } | { ok: false; reason: string } {
  const envelope = envelopeV1.safeParse(json);
  if (!envelope.success) return { ok: false, reason: `invalid envelope: ${summarise(envelope.error)}` };
  const outOfRange = timeFields.find((field) => envelope.data[field] !== undefined && !storableTime(envelope.data[field]));
  if (outOfRange) return { ok: false, reason: `invalid envelope: ${outOfRange}: outside the years 0001–9999 UTC` };
  const workflow = workflowProblem(envelope.data);
  if (workflow) return { ok: false, reason: `invalid envelope: ${workflow}` };
  return { ok: true, envelope: envelope.data };
}

/** zod's issues as one line: `path: message; …`, bounded so a huge input cannot flood a row. */
export function summarise(error: z.ZodError): string {
  const text = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  return error.issues.length > 5 ? `${text}; … ${error.issues.length - 5} more` : text;
}
