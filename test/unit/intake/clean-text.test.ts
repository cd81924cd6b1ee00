import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanText } from '#core/intake/normalize.ts';

/** The six replacements `cleanText` skips when its scan says nothing would change. */
const fullClean = (s: string) =>
  s
    .replace(/\r\n?/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the same pattern as the implementation
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/[ \t\u00A0\u3000]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();

describe('Function: cleanText', () => {
  it('should skip the replacements only when they would change nothing', () => {
    // Prepare
    const piece = fc.oneof(
      fc.constantFrom(' ', '  ', '\n', '\n\n\n', '\r\n', '\r', '\t', '\u00a0', '\u3000', '\u200b', '\u202e', '\ufeff'),
      fc.constantFrom('\u0000', '\u0085', '\u009f', '\ud800', '\udc00', '\ud83d\ude00', '水管', 'a', '，'),
      fc.string({ unit: 'binary', maxLength: 3 }),
    );
    // Act + Assess
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const s = parts.join('');
        expect(cleanText(s)).toBe(fullClean(s));
      }),
      { numRuns: 500, seed: 5 },
    );
  });
});
