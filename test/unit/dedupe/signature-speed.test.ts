/**
 * The helpers and fast paths of the dedupe signature (issue #12): each one against the plain computation it stands
 * for, on edge cases (empty text, surrogate pairs, very long text, no address, no title) and on generated text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeKeys, textPlaceKeysOf, textPlaceKeysOfLowered } from '#core/dedupe/address.ts';
import { parseDedupeConfig, settingsFor } from '#core/dedupe/config.ts';
import { candidateKeys, keyOf, prepareReport, writeKeys } from '#core/dedupe/features.ts';
import { cellsWithin, precisionForRadius } from '#core/dedupe/geo.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import {
  fmix32,
  hash32,
  hash64hex,
  hash64hexOfParts,
  hex8,
  normalizeLowered,
  normalizeText,
  shingles,
  sketchOfText,
} from '#core/dedupe/text.ts';
import { maskText } from '#core/privacy.ts';
import { nfkcLower, nfkcLowerJoined } from '#core/text/fold.ts';
import { config, groups, HERE, report } from './helpers.ts';

/** CJK, kana, latin, digits, separators, phones and emails, a letter and an emoji outside the BMP, a lone surrogate. */
const PIECES = [
  ...'水管爆裂和平路号栋座小区花园村组与门口附近三五十のカ豈abcXyzΣσ019 \t\u3000，。!-_@#'.split(''),
  ...['𠀀', '😀', '\ud800', '\udc00', '\u0301', 'é', 'ＡＢ１２', '13800138000', 'a@b.cn', '尊敬的领导', '您好', '谢谢'],
];
const text = (maxLength: number) => fc.array(fc.constantFrom(...PIECES), { maxLength }).map((a) => a.join(''));
/** 3,000 distinct CJK characters: 5,999 distinct shingles. */
const VERY_LONG = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('');

describe('Function: hash64hexOfParts', () => {
  it('should equal hash64hex of the joined parts: empty parts, odd lengths and surrogate pairs included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(text(6), fc.string({ unit: 'binary', maxLength: 5 })), { maxLength: 6 }),
        (parts) => {
          // Act / Assess
          expect(hash64hexOfParts(parts)).toBe(hash64hex(parts.join('')));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('should hash no parts, empty parts and a very long part as their joined text', () => {
    // Act / Assess
    expect(hash64hexOfParts([])).toBe(hash64hex(''));
    expect(hash64hexOfParts(['', '', ''])).toBe(hash64hex(''));
    expect(hash64hexOfParts(['a', '', 'b', 'c'])).toBe(hash64hex('abc'));
    expect(hash64hexOfParts(['😀', VERY_LONG, '\n', '𠀀x'])).toBe(hash64hex(`😀${VERY_LONG}\n𠀀x`));
  });
});

describe('Function: normalizeLowered', () => {
  it('should equal normalizeText of the text it was folded from', () => {
    fc.assert(
      fc.property(text(40), text(40), (title, body) => {
        // Act / Assess
        const stop = config.text.stopPhrases;
        expect(normalizeLowered(nfkcLower(body), stop)).toBe(normalizeText(body, stop));
        expect(normalizeLowered(nfkcLowerJoined([title, body], ' '), stop)).toBe(normalizeText([title, body], stop));
      }),
      { numRuns: 300 },
    );
  });

  it('should give an empty string for empty or separator-only text, and keep a very long text whole', () => {
    // Act / Assess
    expect(normalizeLowered('')).toBe('');
    expect(normalizeLowered(nfkcLower('，。 ！'))).toBe('');
    expect(normalizeLowered(nfkcLower(VERY_LONG))).toBe(VERY_LONG);
    expect(normalizeLowered(nfkcLower('😀和平路😀𠀀'))).toBe('和平路 𠀀');
  });
});

describe('Function: textPlaceKeysOfLowered', () => {
  it('should equal textPlaceKeysOf of the parts, sigma and surrogate pairs included', () => {
    fc.assert(
      fc.property(text(30), text(30), (title, body) => {
        // Act
        const parts = [title, body];
        const keys = textPlaceKeysOfLowered(parts, nfkcLowerJoined(parts, ' '));
        // Assess
        expect(keys).toEqual(textPlaceKeysOf(parts));
        expect(keys).toEqual(placeKeys(`${title} ${body}`, { fromText: true }));
      }),
      { numRuns: 300 },
    );
  });

  it('should find nothing in empty text and the same keys in a very long text', () => {
    // Prepare
    const long = `${'水管漏水，'.repeat(400)}和平路12号门口`;
    // Act / Assess
    expect(textPlaceKeysOfLowered(['', ''], ' ')).toEqual([]);
    expect(textPlaceKeysOfLowered(['', long], nfkcLowerJoined(['', long], ' '))).toEqual(['d:和平路#12', 'r:和平路']);
  });
});

describe('Function: placeKeys (characters each pattern needs)', () => {
  /** Noise words, numerals before units, crossings, estates, roads and latin: every pattern a clause may skip. */
  const PLACE_PIECES = [
    ...[
      '斜对面',
      '对面',
      '门口',
      '门前',
      '附近',
      '旁边',
      '周边',
      '周围',
      '一带',
      '边上',
      '那边',
      '这里',
      '楼下',
      '路边',
    ],
    ...['后面', '背后', '三', '十二', '一百零五', '两', '〇', '号楼', '号', '栋', '幢', '座', '单元', '室', '层', '楼'],
    ...['期', '组', '与', '和', '交', '及', '、', '和平路', '兰竹路', '坪山大道', '小区', '花园', '大厦', '苑', '村'],
    ...['翠华庭', '广场', 'abc', 'Main', ' st', '12', '-', '，', ' ', '😀', '的'],
  ];
  const placeText = fc.array(fc.constantFrom(...PLACE_PIECES), { maxLength: 16 }).map((a) => a.join(''));

  it('should cut the road suffix before looking for a word that is not a road (马路, 公路, 大道)', () => {
    // Act / Assess: the two-character suffixes go whole (深南 + 大道), one-character ones alone (马 + 路)
    expect(placeKeys('深南大道很堵', { fromText: true })).toEqual(['r:深南大道']);
    expect(placeKeys('人民公路坑多', { fromText: true })).toEqual(['r:人民公路']);
    expect(placeKeys('过马路危险', { fromText: true })).toEqual([]);
    expect(placeKeys('走小路回家', { fromText: true })).toEqual([]);
    expect(placeKeys('去上公路', { fromText: true })).toEqual([]);
    expect(placeKeys('东门大街大街', { fromText: true })).toEqual(['r:东门大街']);
  });

  it('should give the same keys from the folded parts as from the NFKC text', () => {
    fc.assert(
      fc.property(placeText, placeText, (title, body) => {
        // Act / Assess
        expect(textPlaceKeysOf([title, body])).toEqual(placeKeys(`${title} ${body}`, { fromText: true }));
      }),
      { numRuns: 500 },
    );
  });
});

/** The sketch without the fast paths: distinct hashes of the shingle strings, sorted, and each bin's minimum. */
function reference(t: string, k: number) {
  const sorted = Uint32Array.from(new Set(shingles(t).map((s) => hash32(s)))).sort();
  const mins = new Map<number, number>();
  for (const h of sorted) {
    const b = Math.floor((h * k) / 4294967296);
    if (!mins.has(b)) mins.set(b, h);
  }
  return { sorted, mins };
}

describe('Function: sketchOfText (short texts sorted, long ones through the hash table)', () => {
  it('should give the same signature and size on both paths, and the exact sorted set on the short one', () => {
    fc.assert(
      fc.property(text(80), fc.constantFrom(64, 48, 16), (raw, k) => {
        // Prepare
        const t = normalizeText(raw);
        const ref = reference(t, k);
        // Act
        const short = sketchOfText(t, k, 4096);
        const long = sketchOfText(t, k, 0);
        // Assess
        expect(short.size).toBe(ref.sorted.length);
        expect([...(short.set ?? [])]).toEqual([...ref.sorted]);
        expect([...short.sig]).toEqual([...long.sig]);
        expect(long.size).toBe(short.size);
        for (const [b, h] of ref.mins) expect(short.sig[b]).toBe(h);
      }),
      { numRuns: 300 },
    );
  });

  it('should switch paths at maxExact hashes without changing the sketch', () => {
    // Prepare: m distinct characters give 2m − 1 distinct hashes; repeats add hashes, not distinct ones
    const distinct = (m: number) => VERY_LONG.slice(0, m);
    for (const t of [distinct(128), distinct(129), `${distinct(100)}${distinct(100)}`, '水'.repeat(600)]) {
      const ref = reference(t, 64);
      // Act
      const s = sketchOfText(t, 64, 255);
      const big = sketchOfText(t, 64, 4096);
      // Assess
      expect(s.size).toBe(ref.sorted.length);
      expect([...s.sig]).toEqual([...big.sig]);
      if (s.size <= 255) expect([...(s.set ?? [])]).toEqual([...ref.sorted]);
      else expect(s.set).toBeUndefined();
    }
  });

  it('should sort the set of a text too long for a slab (more than 512 hashes) the same way', () => {
    // Prepare: 400 distinct characters → 799 hashes, kept as a set with maxExact 4096
    const t = VERY_LONG.slice(0, 400);
    // Act
    const s = sketchOfText(t, 64, 4096);
    // Assess
    expect([...(s.set ?? [])]).toEqual([...reference(t, 64).sorted]);
    expect([...s.sig]).toEqual([...sketchOfText(t, 64, 0).sig]);
  });

  it('should hash word shingles (numbers, stemmed words, stopwords, pairs) as the shingle strings are hashed', () => {
    // Prepare: words of odd and even length, a letter outside the BMP inside a word, words between CJK runs
    const texts = [
      'the water pipes burst at 12 main streets in 2019 and 3 parties were flooding',
      'a 1 bb 22 ccc 333 dddd 4444 e𠀀f 水管 x 和平路 yy 7',
      `${'12 '.repeat(300)}end`,
    ];
    for (const t of texts) {
      const ref = reference(t, 64);
      // Act
      const s = sketchOfText(t, 64, 4096);
      // Assess
      expect(s.size).toBe(ref.sorted.length);
      expect([...(s.set ?? [])]).toEqual([...ref.sorted]);
      expect([...s.sig]).toEqual([...sketchOfText(t, 64, 0).sig]);
    }
  });

  it('should give the empty sketch for empty text and count a surrogate pair as one word character', () => {
    // Act
    const empty = sketchOfText('', 64, 256);
    const pair = sketchOfText('𠀀𠀀 水', 64, 256);
    // Assess
    expect(empty.size).toBe(0);
    expect(empty.set?.length).toBe(0);
    expect([...empty.sig].every((v) => v === 0xffffffff)).toBe(true);
    expect(pair.size).toBe(reference('𠀀𠀀 水', 64).sorted.length);
    expect([...(pair.set ?? [])]).toEqual([...reference('𠀀𠀀 水', 64).sorted]);
  });

  it('should leave out repeated characters the same way across many texts (per-text stamps going round)', () => {
    // Prepare: more texts than the stamps have values (255); a character comes back 255 texts later, with the stamp
    // it had then, and 水管 comes in every text
    const texts = Array.from({ length: 600 }, (_, i) => `水管水管${String.fromCharCode(0x4e00 + (i % 255))}爆${i}水`);
    for (const t of texts) {
      // Act
      const s = sketchOfText(t, 64, 256);
      // Assess
      expect([...(s.set ?? [])]).toEqual([...reference(t, 64).sorted]);
    }
  });

  it('should hand out arrays of their own length that no other sketch shares', () => {
    // Prepare: enough sketches to fill several slabs
    const texts = Array.from({ length: 60 }, (_, i) => VERY_LONG.slice(i * 7, i * 7 + 20 + (i % 30)));
    const sketches = texts.map((t) => sketchOfText(t, 64, 256));
    const copies = sketches.map((s) => ({ sig: [...s.sig], set: [...(s.set ?? [])] }));
    // Act: overwrite every array of every other sketch
    sketches.forEach((s, i) => {
      if (i % 2 === 0) return;
      s.sig.fill(7);
      s.set?.fill(7);
    });
    // Assess
    sketches.forEach((s, i) => {
      expect(s.sig.length).toBe(64);
      expect(s.set?.length).toBe(s.size);
      if (i % 2 === 0) {
        expect([...s.sig]).toEqual(copies[i]!.sig);
        expect([...(s.set ?? [])]).toEqual(copies[i]!.set);
      }
    });
    // And a fresh sketch of each text is what it was
    texts.forEach((t, i) => {
      expect([...sketchOfText(t, 64, 256).sig]).toEqual(copies[i]!.sig);
    });
  });
});

describe('Function: createGroupResolver (keywords)', () => {
  /** A resolver on config keywords alone, with a one-character keyword. */
  const words = { water: ['水管', '水', '爆管'], power: ['停电', '没电了'], noise: ['噪音', '施工噪音'] };
  const cfg = parseDedupeConfig({ keywords: words });
  const resolver = createGroupResolver(cfg);

  /** The documented rule: per keyword, its non-overlapping occurrences (at most 3) × its length; best group first. */
  function referenceGroup(title: string, body: string): string {
    const t = nfkcLowerJoined([title, title, body], '\n');
    let best = 'unknown';
    let bestScore = 0;
    for (const [group, ks] of Object.entries(words)) {
      let score = 0;
      for (const k of ks) {
        let hits = 0;
        for (let at = t.indexOf(k); at >= 0 && hits < 3; at = t.indexOf(k, at + k.length)) hits++;
        score += hits * k.length * 2;
      }
      if (score > bestScore) {
        bestScore = score;
        best = group;
      }
    }
    return best;
  }

  it('should score keywords as the indexOf rule does, one-character keywords and keywords at the end included', () => {
    const piece = fc.constantFrom(
      '水',
      '管',
      '水管',
      '爆',
      '停',
      '电',
      '停电',
      '没电了',
      '噪',
      '音',
      '施工',
      '，',
      'a',
      '😀',
    );
    const part = fc.array(piece, { maxLength: 20 }).map((a) => a.join(''));
    fc.assert(
      fc.property(part, part, (title, body) => {
        // Act / Assess
        expect(resolver.resolve({ title, text: body }).group).toBe(referenceGroup(title, body));
      }),
      { numRuns: 500 },
    );
  });

  it('should find a keyword that ends the text and ignore one whose second character differs', () => {
    // Act / Assess
    expect(resolver.resolve({ text: '楼里停电' }).group).toBe('power');
    expect(resolver.resolve({ text: '停车停车' }).group).toBe('unknown');
    expect(resolver.resolve({ text: '' }).group).toBe('unknown');
  });
});

describe('Function: prepareReport (title shown to agents)', () => {
  it('should mask phones and emails of the title, or of the text when there is no title, and cut it to 60', () => {
    fc.assert(
      fc.property(text(40), text(120), fc.boolean(), (title, body, withTitle) => {
        // Act
        const f = prepareReport(report({ id: 'R', text: body, ...(withTitle ? { title } : {}) }), config, groups);
        // Assess
        const shown = (withTitle && title) || body;
        expect(f.title).toBe(maskText(shown.replace(/\s+/g, ' ')).slice(0, 60));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: candidateKeys (key strings)', () => {
  /** The keys as `keyOf` spells them, from the documented rule. */
  function referenceKeys(f: ReturnType<typeof prepareReport>): string[] {
    const HOUR = 3_600_000;
    const buckets = (from: number, to: number, hours: number) => {
      const out: number[] = [];
      for (let b = Math.floor(from / (hours * HOUR)); b <= Math.floor(to / (hours * HOUR)) && out.length < 4; b++)
        out.push(b);
      return out;
    };
    const s = settingsFor(config, f.group).incident;
    const bs = buckets(f.at - s.windowHours * HOUR, f.at + s.windowHours * HOUR, s.windowHours);
    const keys: string[] = [];
    if (f.lat !== undefined && f.lon !== undefined) {
      const cells = cellsWithin(f.lat, f.lon, s.radiusMeters, precisionForRadius(s.radiusMeters));
      for (const c of cells) for (const b of bs) keys.push(keyOf.cell(f.group, c, b));
    }
    for (const p of f.placeKeys) for (const b of bs) keys.push(keyOf.place(f.group, p, b));
    for (const c of f.citizenKeys) keys.push(keyOf.citizen(c));
    const nd = config.nearDuplicate;
    if (f.sketch.size >= nd.minShingles) {
      const W = nd.windowDays;
      const wb = buckets(f.at - W * 24 * HOUR, f.at, W * 24);
      const rows = Math.max(1, Math.floor(f.sketch.sig.length / nd.bands));
      for (let b = 0; b < nd.bands && (b + 1) * rows <= f.sketch.sig.length; b++) {
        let h = 0x811c9dc5;
        for (let i = b * rows; i < (b + 1) * rows; i++) h = fmix32(h ^ f.sketch.sig[i]!);
        for (const bucket of wb) keys.push(keyOf.band(b, hex8(h), bucket));
      }
    }
    return keys;
  }

  it('should spell every key as keyOf does: with and without coordinates, address or long text', () => {
    // Prepare
    const long =
      '和平小区3栋楼下的自来水管从上周开始一直漏水，物业说要等水务公司来修，可是一个星期过去了还是没有人来。'.repeat(3);
    const reports = [
      report({ id: 'A', location: { ...HERE, address: '和平路12号' }, citizen: { phone: '13800138000' } }),
      report({ id: 'B', text: long, location: { address: '翠华庭3栋' } }),
      report({ id: 'C', text: long, location: HERE, category: undefined }),
      report({ id: 'D', text: '', title: '' }),
    ];
    for (const r of reports) {
      // Act
      const f = prepareReport(r, config, groups);
      // Assess
      expect(candidateKeys(f, config)).toEqual(referenceKeys(f));
      expect(writeKeys(f, config, true).every((k) => /^[gpct]\|/.test(k))).toBe(true);
    }
  });
});
