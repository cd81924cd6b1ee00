import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nfkc, nfkcLower, nfkcLowerJoined } from '#core/text/fold.ts';

/** Neighbours that interact with what they touch under NFKC or lowercasing (marks, jamo, half-width voicing, sigma). */
const CONTEXTS = ['', 'a', '一', '\u0301', '\u0334', '\uff9e', '\u1161', '\u11a8', 'Σ', '\ud83d\ude00', 'ｶ', '가'];

describe('Function: nfkc / nfkcLower', () => {
  it('should equal String.prototype.normalize for every BMP code unit, alone and between neighbours', () => {
    // Prepare
    const bad: string[] = [];
    // Act
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      for (const [before, after] of [
        ['', ''],
        ['a', '\u0301'],
        ['ｶ', '\uff9e'],
        ['\u1100', '\u1161'],
        ['Σ', ' '],
        ['水', '管'],
      ] as const) {
        const s = `${before}${ch}${after}`;
        if (nfkc(s) !== s.normalize('NFKC') || nfkcLower(s) !== s.normalize('NFKC').toLowerCase()) {
          bad.push(c.toString(16));
          break;
        }
      }
    }
    // Assess
    expect(bad).toEqual([]);
  });

  it('should equal String.prototype.normalize on mixed strings', () => {
    // Prepare: real text pieces, full-width forms, compatibility characters and the troublesome neighbours
    const piece = fc.oneof(
      fc.constantFrom(...CONTEXTS),
      fc.constantFrom('和平路８８号', '，', '。', '㎡', '①', 'ＡＢＣ', 'ΣΑΣ', 'İ', 'ﬁ', '\u3000', '\ufdfa', 'Ⅻ'),
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    );
    // Act + Assess
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (parts) => {
        const s = parts.join('');
        expect(nfkc(s)).toBe(s.normalize('NFKC'));
        expect(nfkcLower(s)).toBe(s.normalize('NFKC').toLowerCase());
      }),
      { numRuns: 500, seed: 7 },
    );
  });

  it('should give back long strings whole (the scratch buffer grows)', () => {
    // Prepare
    const s = `${'ＡＢＣ１２３，'.repeat(800)}${'\ufdfa'.repeat(300)}`;
    // Act + Assess
    expect(nfkcLower(s)).toBe(s.normalize('NFKC').toLowerCase());
    expect(nfkc('plain text')).toBe('plain text');
  });

  it('should fold parts joined by a line break or a space as the joined text, remembered or not', () => {
    // Prepare: parts that start or end with what could combine across the separator
    const part = fc
      .array(
        fc.oneof(
          fc.constantFrom(...CONTEXTS, 'ΑΣ', '\u0301abc', '\u11a8', 'ｶ', '\uff9e'),
          fc.string({ unit: 'grapheme', maxLength: 5 }),
        ),
        { maxLength: 5 },
      )
      .map((xs) => xs.join(''));
    // Act + Assess
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('\n' as const, ' ' as const),
        (ps, sep) => {
          const whole = ps.join(sep).normalize('NFKC').toLowerCase();
          expect(nfkcLowerJoined(ps, sep)).toBe(whole);
          expect(nfkcLowerJoined(ps, sep)).toBe(whole);
          expect(nfkcLower(ps.join(sep))).toBe(whole);
        },
      ),
      { numRuns: 400, seed: 3 },
    );
  });
});
