import type { Rehearsal } from '../rehearsal.ts';

/** One thing the rehearsal shows: `run` resolves with what it saw, or throws saying what went wrong. */
export interface Check {
  readonly name: string;
  /** How long it may take, for the test runner. */
  readonly timeoutMs: number;
  run(rehearsal: Rehearsal): Promise<string>;
}

/** The calls a function made that its role would not allow, as one line each. */
export function deniedCalls(rehearsal: Rehearsal): string[] {
  const lines = rehearsal.front.calls
    .filter((call) => call.decision !== 'allow' && call.decision !== 'unchecked')
    .map((call) => `${call.caller}: ${call.action} on ${call.resource} (${call.operation}) — ${call.decision}`);
  return [...new Set(lines)];
}

/** The last log lines of a function, for a failure's message. */
export function lastLogs(rehearsal: Rehearsal, prefix: string, lines = 15): string {
  return rehearsal.fn(prefix).logs.slice(-lines).map((line) => `    ${line.slice(0, 400)}`).join('\n');
}

/** A failure that names the denied calls, when there were any: they are the likeliest cause. */
export function failure(message: string, rehearsal: Rehearsal): Error {
  const denied = deniedCalls(rehearsal);
  return new Error(denied.length > 0 ? `${message}\n  denied calls so far:\n    ${denied.join('\n    ')}` : message);
}
