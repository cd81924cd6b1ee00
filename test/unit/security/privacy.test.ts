import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskContacts, maskText } from '#core/privacy.ts';

/** Characters that make or break a phone or an email, in both widths, and the text around them. */
const piece = fc.constantFrom(
  ...'0123456789０１２３４５６７８９@＠+＋-－()（） 　.．_abcＡ路灯和平号，。\n\t'.split(''),
  '138',
  '0755-',
  '+86 ',
  '1391234567',
  '13912345678',
  '１３９１２３４５６７８',
  'zhang@qq.com',
  'ｚｈａｎｇ＠ｑｑ．ｃｏｍ',
);

describe('Function: maskText', () => {
  it('should mask mobiles, landlines and emails written in ASCII', () => {
    expect(maskText('电话13912345678，急')).toBe('电话139****5678，急');
    expect(maskText('+86 139 1234 5678')).toBe('+86139****5678');
    expect(maskText('座机0755-12345678')).toBe('座机0755****5678');
    expect(maskText('(0755) 12345678')).toBe('0755****5678');
    expect(maskText('邮箱 zhang.san@qq.com 回复')).toBe('邮箱 z***@qq.com 回复');
  });

  it('should leave numbers that are not phones alone: tracking numbers, house numbers, short codes', () => {
    expect(maskText('受理编号20261129000175')).toBe('受理编号20261129000175');
    expect(maskText('和平路88号3栋')).toBe('和平路88号3栋');
    expect(maskText('请拨12345')).toBe('请拨12345');
  });

  it('should return text without a digit or an @ as the same string', () => {
    const s = '小区门口路灯坏了，晚上很黑（已经一周）！';
    expect(maskText(s)).toBe(s);
    expect(maskText('')).toBe('');
  });

  it('should mask phones and emails typed in full-width characters, keeping the rest of the text as written', () => {
    expect(maskText('我的电话：１３９１２３４５６７８，谢谢')).toBe('我的电话：139****5678，谢谢');
    expect(maskText('电话１３９　１２３４　５６７８。')).toBe('电话139****5678。');
    expect(maskText('座机（０７５５）１２３４５６７８')).toBe('座机0755****5678');
    expect(maskText('ｚｈａｎｇ＠ｑｑ．ｃｏｍ')).toBe('z***@qq.com');
    expect(maskText('全角门牌：和平路８８号，（３栋）')).toBe('全角门牌：和平路８８号，（３栋）');
  });

  it('should mask every number in mixed text, ASCII and full-width, in order', () => {
    expect(maskText('甲13912345678，乙１３８００１３８０００，丙 a@b.cn')).toBe(
      '甲139****5678，乙138****8000，丙 a***@b.cn',
    );
  });

  it('should skip the patterns only for text they leave as it is (property)', () => {
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }).map((xs) => xs.join('')),
        (s) => {
          expect(maskText(s)).toBe(maskContacts(s));
        },
      ),
      { numRuns: 3000, seed: 5 },
    );
    expect(maskText('和平路88号2026年11月29日')).toBe('和平路88号2026年11月29日');
  });
});
