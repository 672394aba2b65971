import { describe, expect, it } from 'vitest';
import { attributeText } from '../../shared/runtime/queue-actions.ts';

describe('attributeText', () => {
  it('keeps what SQS accepts: tab, line breaks, text, characters beyond U+FFFF', () => {
    const text = "unknown task 'caf\u00e9'\t\r\n\u{1F600} \u4e2d";
    expect(attributeText(text)).toBe(text);
  });

  it.each([
    ['a control character a key held', 'invalid envelope: (root): Unrecognized key: "\u0001"', 'invalid envelope: (root): Unrecognized key: "\uFFFD"'],
    ['a noncharacter a task name held', "unknown task 'default.\uFFFF'", "unknown task 'default.\uFFFD'"],
    ['half a surrogate pair left by the cut at 1000 characters', `${'x'.repeat(999)}\u{1F600}`.slice(0, 1000), `${'x'.repeat(999)}\uFFFD`],
  ])('replaces %s, which would make SQS refuse the dead letter', (_case, reason, expected) => {
    expect(attributeText(reason)).toBe(expected);
  });
});
