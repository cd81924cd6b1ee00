import { describe, expect, it } from 'vitest';
import {
  compareSketches,
  fmix32,
  hash32,
  hash64hex,
  normalizeText,
  shingles,
  sketchOfShingles,
  textScore,
} from '#core/dedupe/text.ts';

const sketch = (s: string, maxExact = 256) => sketchOfShingles(shingles(normalizeText(s)), 64, maxExact);

describe('Function: hash32', () => {
  it('should match MurmurHash3 x86_32 reference values', () => {
    // Prepare / Act / Assess: reference values of MurmurHash3_x86_32 over bytes; ASCII code units = bytes pairs here
    expect(hash32('', 0)).toBe(0);
    expect(hash32('', 1)).toBe(0x514e28b7);
    expect(fmix32(0)).toBe(0);
  });

  it('should be deterministic and seed-dependent', () => {
    // Act
    const a = hash32('和平路12号');
    const b = hash32('和平路12号');
    const c = hash32('和平路12号', 7);
    // Assess
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(hash64hex('x')).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('Function: normalizeText', () => {
  it('should fold full-width characters, lowercase and drop punctuation', () => {
    // Act
    const out = normalizeText('ＡＢＣ路１２号，水管爆了！！');
    // Assess
    expect(out).toBe('abc路12号 水管爆了');
  });

  it('should remove phone numbers, masked phones, emails and links but keep door numbers', () => {
    // Act
    const out = normalizeText('电话13800138000 或 138****1234，0755-12345678，a@b.cn，https://x.cn/y 和平路12号');
    // Assess
    expect(out).not.toMatch(/138|0755|1234|@|https/);
    expect(out).toContain('和平路12号');
  });

  it('should remove the configured boilerplate phrases', () => {
    // Act
    const out = normalizeText('尊敬的领导您好：路灯不亮，谢谢', ['尊敬的', '领导', '您好', '谢谢']);
    // Assess
    expect(out).toBe('路灯不亮');
  });
});

describe('Function: shingles', () => {
  it('should cut CJK runs into characters and bigrams and latin runs into stemmed words and word pairs', () => {
    // Act
    const out = shingles('水管爆 the pipes burst');
    // Assess
    expect(out).toEqual(['水', '水管', '管', '管爆', '爆', 'w:pipe', 'w:pipe burst', 'w:burst']);
  });
});

describe('Function: compareSketches', () => {
  it('should give 1 for the same text and 0 for disjoint texts', () => {
    // Act / Assess
    expect(compareSketches(sketch('和平路水管爆裂'), sketch('和平路水管爆裂')).jaccard).toBe(1);
    expect(compareSketches(sketch('和平路水管爆裂'), sketch('abc def')).jaccard).toBe(0);
    expect(compareSketches(sketch(''), sketch('abc')).jaccard).toBe(0);
  });

  it('should be exact for short texts and estimate close to exact for long ones', () => {
    // Prepare
    const a = '和平路12号门口自来水管爆裂，水喷得很高，路面全是水，车辆无法通行，请尽快派人维修';
    const b = '和平路12号附近自来水管破裂，水漫到路面上，车辆过不去，希望尽快维修';
    // Act
    const exact = compareSketches(sketch(a), sketch(b));
    const est = compareSketches(sketch(a, 0), sketch(b, 0));
    // Assess
    expect(exact.exact).toBe(true);
    expect(est.exact).toBe(false);
    expect(Math.abs(est.jaccard - exact.jaccard)).toBeLessThan(0.2);
    expect(exact.containment).toBeGreaterThanOrEqual(exact.jaccard);
  });

  it('should rate paraphrases of one problem above two different problems', () => {
    // Prepare
    const burst1 = sketch('和平路水管爆了，到处是水');
    const burst2 = sketch('和平路自来水管爆裂漏水');
    const noise = sketch('和平路广场舞音响太吵了');
    // Act
    const same = textScore(compareSketches(burst1, burst2), 0.6);
    const other = textScore(compareSketches(burst1, noise), 0.6);
    // Assess
    expect(same).toBeGreaterThan(other);
  });
});
