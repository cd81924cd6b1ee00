import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeKeys, textPlaceKeysOf } from '#core/dedupe/address.ts';

describe('Function: textPlaceKeysOf', () => {
  it('should find the keys placeKeys finds in the joined text, whatever the case of the letters', () => {
    // Prepare: place names, units, separators, and letters whose lowercase is special (İ, Σ before punctuation)
    const piece = fc.oneof(
      fc.constantFrom(
        '和平路',
        '１２号',
        '88号',
        '翠华庭',
        '三栋',
        'Ａ座',
        '5#楼',
        '金沙一路',
        '与',
        '兰竹路',
        '石井村',
        '3组',
      ),
      fc.constantFrom('小区', '花园', '大道', '门口', '附近', '路灯', '马路', '这里的小区', '，', '。', ' ', '\n', '-'),
      fc.constantFrom(
        'ΑΣ',
        'ΑΣ.',
        'Σ',
        '.Β',
        'İ',
        'ABC',
        'Main Street',
        'ϹΑ',
        '\u0301',
        '①',
        '㎡',
        '가',
        '\u1161',
        'ｶﾞ',
        '😀',
        'Ｋ',
      ),
      fc.string({ unit: 'grapheme', maxLength: 3 }),
    );
    const part = fc.array(piece, { maxLength: 10 }).map((xs) => xs.join(''));
    // Act + Assess
    fc.assert(
      fc.property(part, part, (title, text) => {
        expect(textPlaceKeysOf([title, text])).toEqual(placeKeys(`${title} ${text}`, { fromText: true }));
      }),
      { numRuns: 500, seed: 9 },
    );
  });

  it('should cut a clause before a final sigma as the NFKC text does', () => {
    // Prepare: ς or σ depends on what follows the sigma, across the clause boundary
    const title = 'ΑΣ.Β和平路12号';
    // Act + Assess
    expect(textPlaceKeysOf([title, '翠华庭3栋ΑΣ'])).toEqual(placeKeys(`${title} 翠华庭3栋ΑΣ`, { fromText: true }));
  });
});
