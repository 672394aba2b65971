import { deniedCalls, type Check } from './check.ts';

/** Every call any function made, checked against its role in the template: none may have been denied. */
export const everyCallAllowed: Check = {
  name: 'every AWS call a function made is allowed by its role policy in the template',
  timeoutMs: 10_000,
  async run(rehearsal) {
    const denied = deniedCalls(rehearsal);
    if (denied.length > 0) throw new Error(`calls the role would deny in AWS:\n  ${denied.join('\n  ')}`);
    const byCaller = new Map<string, Set<string>>();
    for (const call of rehearsal.front.calls) {
      if (call.decision === 'unchecked') continue;
      byCaller.set(call.caller, (byCaller.get(call.caller) ?? new Set()).add(call.action));
    }
    return [...byCaller].map(([caller, actions]) => `${caller}: ${[...actions].sort().join(' ')}`).join('; ');
  },
};
