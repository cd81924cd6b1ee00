import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collapseSeparators } from '#core/dedupe/text.ts';

const reference = (t: string) => t.replace(/[\p{P}\p{S}\s]+/gu, ' ').trim();

/** Text of ideographs, letters, digits, separators of both widths, and (rarely) surrogates, paired or lone. */
const unit = fc.constantFrom(
  ...'和平路灯坏了abcXYZ０９12，。、！？（）：; .-_#@\n\t　'.split(''),
  '𠮷',
  '\ud842',
  '\udfb7',
  '😀',
);
const text = (max: number) => fc.array(unit, { maxLength: max }).map((xs) => xs.join(''));

describe('Function: collapseSeparators (scratch buffer)', () => {
  it('should equal the pattern on texts longer than the scratch buffer, and after them on short ones', () => {
    // Prepare
    const long = `${'尊敬的领导，您好！'.repeat(300)}和平路88号`;
    const cases = [long, '，，，', '', '路灯', '  路灯  ', `${'。'.repeat(2000)}a`, long.slice(0, 1500), 'a\ud842，b'];
    // Act & Assess
    for (const t of cases) expect(collapseSeparators(t)).toBe(reference(t));
  });

  it('should return the text itself when it holds no separator', () => {
    const t = `和平路${'灯'.repeat(10)}`;
    expect(collapseSeparators(t)).toBe(t);
  });

  it('should equal the pattern on random texts, short and long, in any order', () => {
    fc.assert(
      fc.property(fc.oneof(text(20), text(3000)), (t) => {
        expect(collapseSeparators(t)).toBe(reference(t));
      }),
      { numRuns: 300, seed: 9 },
    );
  });
});
