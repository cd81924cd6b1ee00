import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binOf,
  collapseSeparators,
  compareSketches,
  fmix32,
  hash32,
  hash64hex,
  hex8,
  isBinnedSignature,
  legacySignature,
  normalizeText,
  shingles,
  sketchOfShingles,
  sketchOfText,
  storedSketch,
  type TextSketch,
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

/** Characters that exercise every branch of the shingle scan: CJK (BMP and compatibility), kana, latin, digits,
 * separators, a letter outside the BMP (𠀀 is \p{L}), an emoji (\p{S}), a combining mark and a lone surrogate. */
const MIXED = [...'水管爆裂和平路号栋のカ豈abcXyz019 \t\u3000，。!-_@'].concat(['𠀀', '😀', '\u0301', '\ud800', 'é']);
const mixedText = fc.array(fc.constantFrom(...MIXED), { maxLength: 60 }).map((a) => a.join(''));

/** The one-permutation sketch, recomputed the slow, obvious way from the shingle strings. */
function referenceSketch(sh: readonly string[], k: number) {
  const distinct = [...new Set(sh.map((x) => hash32(x)))];
  const sorted = Uint32Array.from(distinct).sort();
  const mins = new Array<number | undefined>(k).fill(undefined);
  for (const h of distinct) {
    const b = Math.floor((h * k) / 4294967296);
    if (mins[b] === undefined || h < mins[b]!) mins[b] = h;
  }
  return { sorted, mins };
}

describe('Function: sketchOfText', () => {
  it('should equal the sketch of the shingle strings, for any text', () => {
    fc.assert(
      fc.property(mixedText, (t) => {
        // Act
        const fast = sketchOfText(t, 64, 256);
        const slow = sketchOfShingles(shingles(t), 64, 256);
        // Assess
        expect(fast.size).toBe(slow.size);
        expect([...fast.sig]).toEqual([...slow.sig]);
        expect([...(fast.set ?? [])]).toEqual([...(slow.set ?? [])]);
      }),
      { numRuns: 400 },
    );
  });

  it('should keep the sorted distinct shingle hashes and, in each non-empty bin, its smallest hash', () => {
    fc.assert(
      fc.property(mixedText, fc.constantFrom(64, 48, 16), (t, k) => {
        // Prepare
        const sh = shingles(normalizeText(t));
        const ref = referenceSketch(sh, k);
        // Act
        const s = sketchOfText(normalizeText(t), k, 4096);
        // Assess: exact set, true minima where a bin has hashes, every value in its own bin (format mark)
        expect(s.size).toBe(ref.sorted.length);
        expect([...(s.set ?? [])]).toEqual([...ref.sorted]);
        for (let i = 0; i < k; i++) if (ref.mins[i] !== undefined) expect(s.sig[i]).toBe(ref.mins[i]);
        if (s.size > 0) for (let i = 0; i < k; i++) expect(binOf(s.sig[i]!, k)).toBe(i);
      }),
      { numRuns: 300 },
    );
  });

  it('should handle texts with thousands of distinct shingles (hash table growth) and drop the set past maxExact', () => {
    // Prepare: 3,000 distinct CJK characters → 3,000 unigrams + 2,999 bigrams
    const text = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');
    // Act
    const s = sketchOfText(text, 64, 256);
    const again = sketchOfText(text, 64, 256);
    // Assess
    expect(s.size).toBe(5999);
    expect(s.set).toBeUndefined();
    expect(isBinnedSignature(s.sig)).toBe(true);
    expect([...s.sig]).toEqual([...again.sig]);
  });

  it('should fill empty bins so that one shingle still gives a full signature, the same for equal texts', () => {
    // Act
    const a = sketchOfText('水');
    const b = sketchOfText('水');
    const c = sketchOfText('火');
    // Assess
    expect(a.size).toBe(1);
    expect([...a.sig]).toEqual([...b.sig]);
    expect(compareSketches({ sig: a.sig, size: 1 }, { sig: b.sig, size: 1 }).jaccard).toBe(1);
    expect(compareSketches({ sig: a.sig, size: 1 }, { sig: c.sig, size: 1 }).jaccard).toBe(0);
    expect([...sketchOfText('').sig].every((v) => v === 0xffffffff)).toBe(true);
  });
});

describe('Function: compareSketches (one-permutation estimate)', () => {
  const base = Array.from({ length: 400 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 37) % 2000))).join('');

  it('should estimate the Jaccard of long texts within a few points on average', () => {
    // Prepare: pairs sharing a prefix of varying length (true Jaccard from 0 to 1)
    let totalError = 0;
    let pairs = 0;
    for (let cut = 0; cut <= 400; cut += 20) {
      const a = base;
      const b =
        base.slice(0, cut) + Array.from({ length: 400 - cut }, (_, i) => String.fromCharCode(0x6000 + i)).join('');
      const exact = compareSketches(sketchOfText(a, 64, 4096), sketchOfText(b, 64, 4096));
      // Act
      const est = compareSketches(sketchOfText(a, 64, 0), sketchOfText(b, 64, 0));
      // Assess
      expect(exact.exact).toBe(true);
      expect(est.exact).toBe(false);
      expect(Math.abs(est.jaccard - exact.jaccard)).toBeLessThan(0.2);
      totalError += Math.abs(est.jaccard - exact.jaccard);
      pairs++;
    }
    expect(totalError / pairs).toBeLessThan(0.06);
  });

  it('should compare a new sketch with an entry stored in the earlier k-permutation format', () => {
    // Prepare: the earlier format of b, as an old index entry holds it (signature and size, no set: a long text)
    const a = base;
    const b = base.slice(0, 300) + '另外一些不同的内容'.repeat(12);
    const hashesOf = (t: string) => Uint32Array.from(new Set(shingles(t).map((x) => hash32(x))));
    const oldB: TextSketch = { sig: legacySignature(hashesOf(b)), size: hashesOf(b).length };
    const oldA: TextSketch = { sig: legacySignature(hashesOf(a)), size: hashesOf(a).length };
    // Act
    const mixed = compareSketches(sketchOfText(a, 64, 0), oldB);
    const mixedShort = compareSketches(sketchOfText(a, 64, 4096), oldB);
    const reversed = compareSketches(oldB, sketchOfText(a, 64, 0));
    const bothOld = compareSketches(oldA, oldB);
    // Assess: the new side is compared in the old format, so the result is what two old sketches gave
    expect(isBinnedSignature(oldB.sig)).toBe(false);
    expect(mixed).toEqual(bothOld);
    expect(mixedShort).toEqual(bothOld);
    expect(reversed).toEqual(bothOld);
    expect(bothOld.jaccard).toBeGreaterThan(0.3);
  });

  it('should give no similarity when an old-format entry meets a stored sketch without hashes', () => {
    // Prepare
    const a = storedSketch(sketchOfText(base, 64, 0));
    const hashes = Uint32Array.from(new Set(shingles(base).map((x) => hash32(x))));
    const old: TextSketch = { sig: legacySignature(hashes), size: hashes.length };
    // Act
    const s = compareSketches(a, old);
    // Assess
    expect(s).toEqual({ jaccard: 0, containment: 0, exact: false });
  });
});

describe('Function: storedSketch', () => {
  it('should keep signature, size and set only', () => {
    // Act
    const long = storedSketch(sketchOfText('水管爆裂'.repeat(100), 64, 4));
    const short = storedSketch(sketchOfText('水管爆裂'));
    // Assess
    expect(Object.keys(long).sort()).toEqual(['sig', 'size']);
    expect(Object.keys(short).sort()).toEqual(['set', 'sig', 'size']);
  });
});

describe('Function: collapseSeparators', () => {
  it('should equal replacing runs of punctuation, symbols and spaces by one space and trimming', () => {
    fc.assert(
      fc.property(fc.oneof(mixedText, fc.string({ unit: 'binary', maxLength: 30 })), (t) => {
        // Act / Assess
        expect(collapseSeparators(t)).toBe(t.replace(/[\p{P}\p{S}\s]+/gu, ' ').trim());
      }),
      { numRuns: 500 },
    );
  });
});

describe('Function: hash64hex', () => {
  it('should be the two seeded 32-bit hashes in hex, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(mixedText, fc.string({ unit: 'binary', maxLength: 40 })), (s) => {
        // Act / Assess
        expect(hash64hex(s)).toBe(hex8(hash32(s, 0x9747b28c)) + hex8(hash32(s, 0x5bd1e995)));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: hex8', () => {
  it('should write a uint32 as 8 lowercase hex digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (h) => {
        // Act / Assess
        expect(hex8(h)).toBe(h.toString(16).padStart(8, '0'));
      }),
      { numRuns: 300 },
    );
    expect(hex8(0)).toBe('00000000');
  });
});
