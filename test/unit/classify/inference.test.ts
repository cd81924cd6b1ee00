import { brotliDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKeysRice, extractFeatures, normalizeCodes, normalizeText } from '#core/classify/features.ts';
import {
  BASE85,
  fromBase85,
  loadModel,
  type ModelArtifact,
  serializeModel,
  toBase85,
  trainModel,
} from '#core/classify/model.ts';
import { calibratedLogits, syntheticExamples } from './fixtures.ts';

/** The normalization as first written (regular expressions over strings): the fast path must match it exactly. */
const regexNormalize = (text: string, maxChars: number): string => {
  const s = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').replace(/[0-9]/g, '0').trim();
  return s.length > maxChars ? s.slice(0, maxChars) : s;
};

/** Base85 the slow way: the text as one big number per 5-character group (padded with the last digit). */
function naiveBase85(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 5) {
    const group = text.slice(i, i + 5);
    let v = 0n;
    for (const c of group.padEnd(5, BASE85[84])) v = v * 85n + BigInt(BASE85.indexOf(c));
    for (let j = 0; j < group.length - 1; j++) out.push(Number((v >> BigInt(24 - 8 * j)) & 255n));
  }
  return Uint8Array.from(out);
}

/** A deliberately naive scorer straight from the artifact fields, to check the fused one-pass inference against. */
function referenceProbabilities(a: ModelArtifact, text: string): number[] {
  const K = a.labels.length;
  const V = a.vocabSize;
  const data = new Uint8Array(brotliDecompressSync(naiveBase85(a.data)));
  const { keys, length } = decodeKeysRice(data, V, a.keyRice);
  const row = new Map([...keys].map((k, r) => [k, r]));
  const idfQ = data.slice(length, length + V);
  const wq = new Int8Array(data.slice(length + V, length + V + V * K).buffer);
  const idfLevels = 2 ** a.idfBits - 1;
  const wLevels = 2 ** (a.weightBits - 1) - 1;
  const idf = (q: number) => Math.fround(1 + (q / idfLevels) * (a.idfMax - 1));
  const weight = (r: number, k: number) => {
    const x = (wq[r * K + k] as number) / wLevels;
    return Math.fround(Math.sign(x) * x * x * (a.scales[k] as number));
  };
  const doc = extractFeatures(text, a.features);
  const s = [...a.bias];
  let norm = 0;
  const terms: [number, number][] = [];
  doc.keys.forEach((key, j) => {
    const r = row.get(Math.floor(key / 2 ** (32 - a.keyBits)));
    const v = (1 + Math.log(doc.counts[j] as number)) * (r === undefined ? idf(a.idfUnknown) : idf(idfQ[r] as number));
    norm += v * v;
    if (r !== undefined) terms.push([r, v]);
  });
  if (norm > 0)
    for (const [r, v] of terms)
      for (let k = 0; k < K; k++) s[k] = (s[k] as number) + (weight(r, k) * v) / Math.sqrt(norm);
  const z = calibratedLogits(a, s);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((x, y) => x + y, 0);
  return e.map((v) => v / sum);
}

describe('Function: normalizeCodes', () => {
  it('should give exactly the code units of the regular-expression normalization', () => {
    // Prepare
    const unit = fc.constantFrom(
      'a',
      'Z',
      'Ａ',
      ' ',
      '\u3000',
      '\n',
      '\t',
      '1',
      '９',
      '路',
      '灯',
      'İ',
      'ß',
      'Σ',
      '\u00a0',
      '\ufeff',
      '\u2028',
      'Ⅻ',
      '，',
    );

    // Act + Assess
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), fc.integer({ min: 0, max: 50 }), (t, max) => {
        expect(String.fromCharCode(...normalizeCodes(t, max))).toBe(regexNormalize(t, max));
        expect(normalizeText(t, max)).toBe(regexNormalize(t, max));
      }),
      { numRuns: 400, seed: 9 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 0, max: 50 }), (t, max) => {
        expect(normalizeText(t, max)).toBe(regexNormalize(t, max));
      }),
      { numRuns: 300, seed: 10 },
    );
  });

  it('should keep a space before more text at the cut but never a trailing one', () => {
    // Assess
    expect(normalizeText('abc   ', 4)).toBe('abc');
    expect(normalizeText('abc   d', 4)).toBe('abc ');
    expect(normalizeText('  \u3000 ', 10)).toBe('');
  });
});

describe('Function: toBase85', () => {
  it('should round-trip any bytes, 5 characters per 4 bytes, in an alphabet JSON and JS leave unescaped', () => {
    // Act + Assess
    expect(BASE85).toHaveLength(85);
    expect(new Set(BASE85).size).toBe(85);
    expect(BASE85).not.toMatch(/["'`\\$\s]/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = toBase85(bytes);
        expect(text).toHaveLength(Math.ceil((bytes.length * 5) / 4));
        expect(JSON.stringify(text)).toBe(`"${text}"`);
        expect([...fromBase85(text)]).toEqual([...bytes]);
        expect([...naiveBase85(text)]).toEqual([...bytes]);
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('should refuse characters outside the alphabet, a 1-character tail and a group above 2^32', () => {
    // Assess
    expect(() => fromBase85('ab"cd')).toThrow(/character/);
    expect(() => fromBase85('ab\u0121cd')).toThrow(/character/);
    expect(() => fromBase85('abcd路')).toThrow(/character/);
    expect(() => fromBase85('abcde0')).toThrow(/length/);
    expect(() => fromBase85(BASE85[84]?.repeat(5) ?? '')).toThrow(/group/);
  });
});

describe('Function: loadModel (inference)', () => {
  it.each([
    ['full vocabulary, 8-bit codes, 32-bit keys', {}],
    [
      'pruned to 40 n-grams, 7-bit weights, 6-bit IDF, 24-bit keys',
      { maxFeatures: 40, weightBits: 7, idfBits: 6, keyBits: 24 },
    ],
    ['4-bit weights, 3-bit IDF, 20-bit keys', { weightBits: 4, idfBits: 3, keyBits: 20 }],
  ])('should score exactly as a naive reading of the artifact does (%s)', (_, options) => {
    // Prepare
    const artifact = trainModel(syntheticExamples(25), options);
    const model = loadModel(artifact);
    const texts = [
      '地铁站附近的红绿灯坏了',
      '学校老师乱收补课费！！',
      '夜间施工噪音扰民 １２３',
      '',
      'zzz 未见过的词语',
    ];

    // Act + Assess
    for (const t of texts) {
      const got = [...model.probabilities(t)];
      const want = referenceProbabilities(artifact, t);
      got.forEach((p, k) => {
        expect(p).toBeCloseTo(want[k] as number, 12);
      });
    }
  });

  it('should give the same probabilities whatever was scored before (scratch buffers are reset)', () => {
    // Prepare
    const model = loadModel(trainModel(syntheticExamples()));
    const first = [...model.probabilities('公交车班次太少')];

    // Act
    model.probabilities('路灯'.repeat(400));
    model.probabilities('学校 幼儿园 招生 老师');
    const again = [...model.probabilities('公交车班次太少')];

    // Assess
    expect(again).toEqual(first);
  });

  it('should refuse a feature spec with n-gram lengths outside 1–8', () => {
    // Prepare
    const good = trainModel(syntheticExamples());

    // Act + Assess
    for (const ngrams of [[], [0], [1, 2.5], [9]]) {
      expect(() => loadModel({ ...good, features: { ...good.features, ngrams } })).toThrow(/bad feature spec/);
    }
  });
});

describe('Function: trainModel (NBSVM)', () => {
  it('should scale features by Naive Bayes ratios by default and record the smoothing', () => {
    // Prepare
    const data = syntheticExamples();

    // Act
    const nb = trainModel(data);
    const plain = trainModel(data, { nbAlpha: 0 });

    // Assess
    expect(nb.training.nbAlpha).toBe(1);
    expect(plain.training.nbAlpha).toBeUndefined();
    expect(nb.data).not.toBe(plain.data);
    for (const a of [nb, plain]) expect(loadModel(a).predict('出租车拒载，公交线路太少').label).toBe('交通运输');
  });

  it('should give a byte-identical NBSVM artifact for the same data, in any smoothing', () => {
    // Prepare
    const data = syntheticExamples(15);

    // Act + Assess
    for (const nbAlpha of [0.5, 1]) {
      expect(serializeModel(trainModel(data, { nbAlpha }))).toBe(serializeModel(trainModel(data, { nbAlpha })));
    }
  });
});
