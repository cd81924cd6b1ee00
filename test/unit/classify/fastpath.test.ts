import { brotliDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClassifyInput, createClassifier } from '#core/classify/classifier.ts';
import { defaultModelArtifact, defaultTaxonomy, defaultThresholds } from '#core/classify/default.ts';
import { decodeKeysRice, extractFeatures, KeyIndex, normalizeCodes, SortedKeyIndex } from '#core/classify/features.ts';
import {
  fromBase85,
  loadModel,
  type ModelArtifact,
  seededRandom,
  type TextModel,
  type TrainExample,
  trainModel,
} from '#core/classify/model.ts';
import { nfkcLower } from '#core/text/fold.ts';
import { calibratedLogits, syntheticExamples } from './fixtures.ts';

const tables = new WeakMap<ModelArtifact, { row: Map<number, number>; idfQ: Uint8Array; wq: Int8Array }>();

/** The artifact's three tables, decoded once per artifact. */
function tablesOf(a: ModelArtifact) {
  let t = tables.get(a);
  if (t === undefined) {
    const V = a.vocabSize;
    const data = new Uint8Array(brotliDecompressSync(fromBase85(a.data)));
    const { keys, length } = decodeKeysRice(data, V, a.keyRice);
    t = {
      row: new Map([...keys].map((k, r) => [k, r])),
      idfQ: data.subarray(length, length + V),
      wq: new Int8Array(data.buffer, data.byteOffset + length + V, V * a.labels.length),
    };
    tables.set(a, t);
  }
  return t;
}

/**
 * The inference as first written, step by step from the artifact (a Map for the keys, one weight at a time): the
 * fast path (bucketed key index, 16-bit unigram rows, padded weight codes and unrolled accumulators, the
 * classifier's shared fold) must give the same bits, not merely close numbers.
 */
function referenceProbabilities(a: ModelArtifact, text: string): Float64Array {
  const K = a.labels.length;
  const { row, idfQ, wq } = tablesOf(a);
  const idfLevels = 2 ** a.idfBits - 1;
  const wLevels = 2 ** (a.weightBits - 1) - 1;
  const idf = (q: number) => Math.fround(1 + (q / idfLevels) * (a.idfMax - 1));
  const weight = (r: number, k: number) => {
    const x = (wq[r * K + k] as number) / wLevels;
    return Math.fround((x < 0 ? -x * x : x * x) * (a.scales[k] as number));
  };
  // Distinct n-grams in order of first occurrence (n by n), as the model counts them.
  const doc = extractFeatures(text, a.features);
  let normKnown = 0;
  let normUnknown = 0;
  const terms: [number, number][] = [];
  doc.keys.forEach((key, j) => {
    const r = row.get(Math.floor(key / 2 ** (32 - a.keyBits)));
    const tf = 1 + Math.log(doc.counts[j] as number);
    if (r === undefined) {
      const v = tf * idf(a.idfUnknown);
      normUnknown += v * v;
    } else {
      const v = tf * idf(idfQ[r] as number);
      normKnown += v * v;
      terms.push([r, v]);
    }
  });
  const norm = normKnown + normUnknown;
  const s = Float64Array.from(a.bias);
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (const [r, v] of terms) acc += weight(r, k) * v;
      s[k] = (s[k] as number) + acc * inv;
    }
  }
  const z = calibratedLogits(a, [...s]);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((x, y) => x + y, 0);
  return Float64Array.from(e, (v) => v / sum);
}

const sameBits = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  expect(got.length).toBe(want.length);
  for (let k = 0; k < want.length; k++)
    expect(Object.is(got[k], want[k]), `label ${k}: ${got[k]} vs ${want[k]}`).toBe(true);
};

/** Code units that stress the fold and the n-grams: CJK, full-width, digits, spaces, surrogates, marks, Σ, Hangul. */
const UNITS = [
  '路',
  '灯',
  '坏',
  '了',
  '噪',
  '音',
  '燃',
  '气',
  '泄',
  '漏',
  '井',
  '盖',
  '公',
  '交',
  '学',
  '校',
  'Ａ',
  'ｂ',
  '１',
  '7',
  ' ',
  '\u3000',
  '\n',
  '\t',
  '\u00a0',
  '😀',
  '𠮷',
  '\ud800',
  '\udc00',
  'e\u0301',
  '\u0301',
  'ß',
  'İ',
  'Σ',
  'ﾞ',
  'ｶ',
  '가',
  'ᄀ',
  '㎡',
  '①',
  '，',
  '。',
  'a',
  'Z',
];
const unit = fc.constantFrom(...UNITS);
/** Words of the synthetic topics and of the shipped model's subjects: texts with many known n-grams. */
const WORDS = [
  '公交车',
  '地铁站',
  '噪音扰民',
  '夜间施工',
  '学校',
  '补课费',
  '请',
  '尽快',
  '处理',
  '路灯不亮',
  '垃圾清运',
  '停水',
];
const text = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom(...WORDS), unit), { maxLength: 40 }).map((xs) => xs.join('')),
  fc.string({ unit, maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  // Longer than maxChars (1,000 by default): the cut, and counts above 255 for the table of 1 + ln(c).
  fc.string({ unit, minLength: 1100, maxLength: 1400 }),
  fc.constantFrom('', ' ', '\n', '路'.repeat(700), '路灯'.repeat(300)),
);

/** Nine labels from the three synthetic topics (more than the unrolled kernel's eight: the general loop). */
const nineLabels = (): TrainExample[] =>
  syntheticExamples(12).map((e, i) => ({ ...e, label: `${e.label}${Math.floor(i / 3) % 3}` }));

describe('Function: loadModel (fast path against the reference)', () => {
  const models: [string, ModelArtifact][] = [
    ['the shipped model (7 labels, 30,000 n-grams, 26-bit keys)', defaultModelArtifact],
    ['3 labels, full vocabulary, 32-bit keys', trainModel(syntheticExamples(15))],
    [
      '3 labels, 1–3-grams, 16-bit keys',
      trainModel(syntheticExamples(15), { features: { ngrams: [1, 2, 3], maxChars: 300 }, keyBits: 16 }),
    ],
    ['3 labels, 2-grams only', trainModel(syntheticExamples(15), { features: { ngrams: [2], maxChars: 1000 } })],
    ['9 labels (more than the unrolled kernel takes)', trainModel(nineLabels(), { maxFeatures: 60, keyBits: 20 })],
    [
      '4 labels',
      trainModel([...syntheticExamples(10), ...syntheticExamples(10, 3).map((e) => ({ ...e, label: '其他' }))]),
    ],
  ];

  it.each(models)('should give the bits of the reference on random texts (%s)', (_, artifact) => {
    // Prepare
    const model = loadModel(artifact);
    expect(artifact.vocabSize).toBeGreaterThan(0);

    // Act + Assess
    fc.assert(
      fc.property(text, (t) => {
        const want = referenceProbabilities(artifact, t);
        sameBits(model.probabilities(t), want);
        sameBits(model.probabilitiesOfFolded?.(t.normalize('NFKC').toLowerCase()) ?? [], want);
        sameBits(model.probabilitiesOfFolded?.(nfkcLower(t)) ?? [], want);
      }),
      { numRuns: 60, seed: 20 },
    );
  });
});

describe('Function: normalizeCodes (folded text)', () => {
  it('should take a folded text as it is and treat exactly the units of /\\s/ as whitespace, over the whole BMP', () => {
    // Act
    const wrong: number[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      const want = /\s/.test(ch) ? 'a b' : `a${c >= 0x30 && c <= 0x39 ? '0' : ch}b`;
      if (String.fromCharCode(...normalizeCodes(`a${ch}b`, 10, true)) !== want) wrong.push(c);
    }

    // Assess
    expect(wrong).toEqual([]);
    expect(String.fromCharCode(...normalizeCodes('ＡＢ  Ｃ１', 10, true))).toBe('ＡＢ Ｃ１');
  });
});

describe('Class: SortedKeyIndex', () => {
  it('should find the same rows as KeyIndex, and nothing else, at every key width', () => {
    // Prepare
    const rnd = seededRandom(5);
    for (const [bits, count] of [
      [16, 3000],
      [20, 1],
      [24, 0],
      [26, 30000],
      [32, 5000],
      [18, 60000],
    ] as const) {
      const keys = Uint32Array.from(new Set(Array.from({ length: count }, () => Math.floor(rnd() * 2 ** bits)))).sort();
      const sorted = new SortedKeyIndex(keys, bits);
      const hashed = new KeyIndex(keys);

      // Act: every key, its neighbours, random probes, the ends and keys wider than the declared width
      const probes = [0, 1, 2 ** bits - 1, 2 ** bits, 2 ** 31, 0xffffffff];
      for (const k of keys) probes.push(k, k + 1, k - 1);
      for (let i = 0; i < 2000; i++) probes.push(Math.floor(rnd() * 2 ** bits));
      const wrong: string[] = [];
      for (const p of probes) {
        if (p < 0 || p > 0xffffffff) continue;
        const want = p < 2 ** bits ? hashed.get(p) : -1;
        if (sorted.get(p) !== want) wrong.push(`${bits} bits, ${count} keys: ${p} → ${sorted.get(p)}, not ${want}`);
      }
      keys.forEach((k, r) => {
        if (sorted.get(k) !== r) wrong.push(`${bits} bits: key ${k} → ${sorted.get(k)}, not row ${r}`);
      });

      // Assess
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(probes.length).toBeGreaterThan(keys.length * 3);
    }
  });
});

describe('Function: createClassifier (shared fold)', () => {
  it('should classify as with a model that folds the joined text itself', () => {
    // Prepare: the same shipped model, once through the fold the keywords share, once as a plain TextModel
    const shared = createClassifier({
      taxonomy: defaultTaxonomy,
      model: defaultModelArtifact,
      thresholds: defaultThresholds,
    });
    const model = shared.model as TextModel;
    const plain: TextModel = {
      labels: model.labels,
      artifact: model.artifact,
      probabilities: (t) => model.probabilities(t),
      predict: (t, k) => model.predict(t, k),
    };
    const separate = createClassifier({ taxonomy: defaultTaxonomy, model: plain, thresholds: defaultThresholds });
    const input = fc.record(
      { title: text, text, categoryHint: fc.constantFrom('', 'SZ-01', '路灯不亮', 'nothing') },
      { requiredKeys: ['text'] },
    );

    // Act + Assess: equal to the bit (toEqual compares numbers with Object.is)
    fc.assert(
      fc.property(input, (i: ClassifyInput) => {
        expect(shared.classify(i)).toStrictEqual(separate.classify(i));
      }),
      { numRuns: 150, seed: 21 },
    );
  });
});

describe('Function: createClassifier (candidate order)', () => {
  const labels = defaultModelArtifact.labels;
  const standIn = (p: number[]): TextModel => ({
    labels,
    artifact: defaultModelArtifact,
    probabilities: () => Float64Array.from(p),
    predict: () => ({ label: labels[0] as string, confidence: 0, alternatives: [] }),
  });
  const classify = (p: number[], text: string) =>
    createClassifier({ taxonomy: defaultTaxonomy, model: standIn(p), thresholds: defaultThresholds }).classify({
      text,
    });

  it('should order tied, NaN and infinite probabilities as the code before the speed work did', () => {
    // Act: a stand-in model's probabilities over the shipped labels (outputs pinned from the earlier code)
    const nan = classify(
      [Number.NaN, 0.3, Number.POSITIVE_INFINITY, 0.1, 0, -0, 0.2],
      '路灯不亮\n和平路88号门口的路灯坏了一个星期',
    );
    const twoNaN = classify(
      [0.1, Number.NaN, Number.NaN, 0.2, 0.3, 0.15, 0.25],
      '小区垃圾没人清运，臭味很大，燃气泄漏',
    );
    const ties = classify([0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1], '夜间施工噪音扰民');

    // Assess
    expect(nan).toStrictEqual({
      category: 'JT-07',
      label: '交通运输',
      confidence: Number.NaN,
      alternatives: [
        { category: 'WS-06', label: '卫生计生', confidence: Number.POSITIVE_INFINITY },
        { category: 'RS-07', label: '劳动和社会保障', confidence: 0.3 },
        { category: 'HB-08', label: '环境保护', confidence: 0.2 },
      ],
      reason: 'model',
      department: 'jiaotong',
      decision: 'auto',
      matchedKeywords: undefined,
    });
    expect(twoNaN.alternatives).toStrictEqual([
      { category: 'RS-07', label: '劳动和社会保障', confidence: Number.NaN },
      { category: 'WS-06', label: '卫生计生', confidence: Number.NaN },
      { category: 'CG-01', label: '城乡建设', confidence: 0.3 },
    ]);
    expect([twoNaN.category, twoNaN.confidence, twoNaN.decision]).toEqual(['JT-07', 0.1, 'manual']);
    expect(ties.alternatives.map((a) => [a.category, a.confidence])).toEqual([
      ['RS-07', 0.2],
      ['WS-06', 0.2],
      ['SC-08', 0.1],
    ]);
    expect([ties.category, ties.confidence, ties.reason]).toEqual(['JT-07', 0.2, 'below-threshold']);
  });
});
