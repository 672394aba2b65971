import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestSet } from '../../shared/data/digest-set.ts';

const digest = (text: string) => createHash('sha1').update(text).digest();

describe('DigestSet', () => {
  it('tells new digests from seen ones across many growths', () => {
    const set = new DigestSet();
    for (let i = 0; i < 50_000; i++) expect(set.add(digest(`row ${i}`))).toBe(true);
    for (let i = 0; i < 50_000; i += 7) expect(set.add(digest(`row ${i}`))).toBe(false);
    expect(set.add(digest('row 50000'))).toBe(true);
    expect(set.size).toBe(50_001);
  });

  it('keeps the all-zero digest, which cannot occupy a slot, apart', () => {
    const set = new DigestSet();
    expect(set.add(new Uint8Array(20))).toBe(true);
    expect(set.add(new Uint8Array(20))).toBe(false);
    expect(set.size).toBe(1);
  });

  it('compares all 16 bytes, not only the slot index', () => {
    const set = new DigestSet();
    const a = new Uint8Array(16).fill(1);
    const b = Uint8Array.from(a);
    b[15] = 2;
    expect(set.add(a)).toBe(true);
    expect(set.add(b)).toBe(true);
    expect(set.add(Uint8Array.from(a))).toBe(false);
  });
});
