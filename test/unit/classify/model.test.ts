import { describe, expect, it } from 'vitest';
import {
  decodeKeysRice,
  encodeKeysRice,
  extractFeatures,
  KeyIndex,
  normalizeText,
  riceParameter,
} from '#core/classify/features.ts';
import {
  assignFolds,
  crossValidate,
  fitAffine,
  fitMatrixCalibration,
  fitTemperature,
  loadModel,
  seededRandom,
  serializeModel,
  trainModel,
} from '#core/classify/model.ts';
import { CityLoopError } from '#core/errors.ts';
import { syntheticExamples } from './fixtures.ts';

const errorCode = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof CityLoopError ? e.code : 'OTHER';
  }
  return undefined;
};

describe('Function: trainModel', () => {
  it('should give a byte-identical artifact for the same data and options', () => {
    // Prepare
    const data = syntheticExamples();

    // Act
    const a = serializeModel(trainModel(data));
    const b = serializeModel(trainModel(data.map((e) => ({ ...e }))));

    // Assess
    expect(a).toBe(b);
    expect(a).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('should learn the synthetic topics', () => {
    // Prepare
    const model = loadModel(trainModel(syntheticExamples()));

    // Act
    const p = model.predict('地铁站附近的红绿灯坏了，公交车很难开');

    // Assess
    expect(p.label).toBe('交通运输');
    expect(p.confidence).toBeGreaterThan(0.5);
    expect(p.alternatives.map((a) => a.label)).toEqual(expect.arrayContaining(['环境保护', '教育文体']));
  });

  it('should prune to the n-grams that separate the labels, byte-identically, and still learn the topics', () => {
    // Prepare
    const data = syntheticExamples();
    const options = { maxFeatures: 30, weightBits: 7, idfBits: 6, keyBits: 24 };

    // Act
    const full = trainModel(data);
    const a = serializeModel(trainModel(data, options));
    const b = serializeModel(trainModel(data, options));
    const pruned = loadModel(a);

    // Assess
    expect(a).toBe(b);
    expect(pruned.artifact.vocabSize).toBe(30);
    expect(full.vocabSize).toBeGreaterThan(100);
    expect(pruned.artifact.training.maxFeatures).toBe(30);
    expect(pruned.artifact.data.length).toBeLessThan(full.data.length / 2);
    // The unknown IDF drops below the rare-n-gram maximum: pruned n-grams are common ones too.
    expect(pruned.artifact.idfUnknown).toBeLessThan(63);
    expect(pruned.predict('地铁站附近的红绿灯坏了，公交车很难开').label).toBe('交通运输');
    expect(pruned.predict('学校老师乱收补课费').label).toBe('教育文体');
    expect(pruned.predict('夜间施工噪音扰民').label).toBe('环境保护');
  });

  it('should weigh a small label up with class balance, byte-identically, and record the setting', () => {
    // Prepare: 交通运输 has 4 examples, the other labels 40 each
    let kept = 0;
    const data = syntheticExamples(40).filter((e) => e.label !== '交通运输' || kept++ < 4);
    const text = '地铁站附近的红绿灯坏了，公交车很难开';

    // Act
    const plain = trainModel(data, { calibration: 'temperature' });
    const balanced = trainModel(data, { calibration: 'temperature', classBalance: 0.5 });
    const again = trainModel(data, { calibration: 'temperature', classBalance: 0.5 });

    // Assess
    const score = (a: typeof plain) => loadModel(a).probabilities(text)[a.labels.indexOf('交通运输')] as number;
    expect(score(balanced)).toBeGreaterThan(score(plain));
    expect(serializeModel(balanced)).toBe(serializeModel(again));
    expect(balanced.training.classBalance).toBe(0.5);
    expect(plain.training.classBalance).toBeUndefined();
  });

  it('should refuse data with fewer than two labels', () => {
    // Assess
    expect(errorCode(() => trainModel([{ text: 'a', label: 'x' }]))).toBe('TRAIN_TOO_FEW_CLASSES');
    expect(errorCode(() => trainModel([]))).toBe('TRAIN_NO_DATA');
    for (const bad of [{ weightBits: 1 }, { idfBits: 9 }, { keyBits: 8 }, { maxFeatures: -1 }, { maxFeatures: 1.5 }]) {
      expect(errorCode(() => trainModel(syntheticExamples(2), bad))).toBe('TRAIN_BAD_OPTIONS');
    }
  });
});

describe('Function: loadModel', () => {
  it('should round-trip through JSON text with the same probabilities', () => {
    // Prepare
    const artifact = trainModel(syntheticExamples());
    const json = serializeModel(artifact);

    // Act
    const fromObject = loadModel(artifact);
    const fromText = loadModel(json);

    // Assess
    expect(JSON.parse(json)).toEqual(artifact);
    for (const t of ['学校老师乱收补课费', '夜间施工噪音扰民', '出租车拒载', '']) {
      expect([...fromText.probabilities(t)]).toEqual([...fromObject.probabilities(t)]);
      const sum = [...fromText.probabilities(t)].reduce((s, v) => s + v, 0);
      expect(sum).toBeCloseTo(1, 9);
    }
  });

  it('should refuse malformed artifacts with MODEL_INVALID', () => {
    // Prepare
    const good = trainModel(syntheticExamples());

    // Assess
    expect(errorCode(() => loadModel('{not json'))).toBe('MODEL_INVALID');
    expect(errorCode(() => loadModel({ ...good, format: 'other' as typeof good.format }))).toBe('MODEL_INVALID');
    expect(errorCode(() => loadModel({ ...good, version: 99 }))).toBe('MODEL_INVALID');
    expect(errorCode(() => loadModel({ ...good, vocabSize: good.vocabSize + 1 }))).toBe('MODEL_INVALID');
    expect(errorCode(() => loadModel({ ...good, scales: [1] }))).toBe('MODEL_INVALID');
    expect(errorCode(() => loadModel({ ...good, version: 1 }))).toBe('MODEL_INVALID');
    for (const bits of [{ weightBits: 9 }, { idfBits: 0 }, { keyBits: 33 }, { keyBits: 12 }, { keyRice: 40 }]) {
      expect(errorCode(() => loadModel({ ...good, ...bits }))).toBe('MODEL_INVALID');
    }
    // A key beyond keyBits, a corrupt or truncated blob.
    expect(errorCode(() => loadModel({ ...good, keyBits: 16 }))).toBe('MODEL_INVALID');
    expect(errorCode(() => loadModel({ ...good, data: 'AAAA' }))).toBe('MODEL_INVALID');
    expect(errorCode(() => loadModel({ ...good, data: good.data.slice(0, 40) }))).toBe('MODEL_INVALID');
    // A matrix calibration of the wrong size, with a non-number, without its bias, or in a version-2 artifact.
    const cal = good.calibration;
    expect(cal.method).toBe('matrix');
    const broken = (c: Partial<typeof cal>, version = good.version) =>
      errorCode(() => loadModel({ ...good, version, calibration: { ...cal, ...c } as typeof cal }));
    expect(broken({ matrix: cal.matrix?.slice(1) })).toBe('MODEL_INVALID');
    expect(broken({ matrix: cal.matrix?.map((v, i) => (i === 4 ? Number.NaN : v)) })).toBe('MODEL_INVALID');
    expect(broken({ bias: undefined })).toBe('MODEL_INVALID');
    expect(broken({}, 2)).toBe('MODEL_INVALID');
  });

  it('should still load a version-2 artifact (affine calibration) and apply it as before', () => {
    // Prepare
    const v2 = { ...trainModel(syntheticExamples(), { calibration: 'affine' }), version: 2 };
    const { temperature: T, bias } = v2.calibration;

    // Act
    const model = loadModel(serializeModel(v2));
    const raw = loadModel({ ...v2, calibration: { method: 'temperature', temperature: 1, folds: 0 } });

    // Assess: softmax(T·s + b) of the raw scores (recovered as log-probabilities up to a constant)
    for (const t of ['学校老师乱收补课费', '夜间施工噪音扰民']) {
      const s = [...raw.probabilities(t)].map((p) => Math.log(p));
      const z = s.map((v, k) => v * T + (bias?.[k] ?? 0));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((x, y) => x + y, 0);
      const got = [...model.probabilities(t)];
      for (let k = 0; k < got.length; k++) expect(got[k]).toBeCloseTo((e[k] as number) / sum, 9);
    }
  });

  it('should return alternatives in descending confidence', () => {
    // Prepare
    const model = loadModel(trainModel(syntheticExamples()));

    // Act
    const p = model.predict('幼儿园招生', 3);

    // Assess
    const confs = [p.confidence, ...p.alternatives.map((a) => a.confidence)];
    expect(confs).toEqual([...confs].sort((a, b) => b - a));
    expect(p.alternatives).toHaveLength(2);
  });
});

describe('Function: calibration', () => {
  it('should recover the temperature that generated the labels', () => {
    // Prepare: labels sampled from softmax(2.5 * s)
    const rnd = seededRandom(11);
    const scores: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 4000; i++) {
      const s = [rnd() * 2 - 1, rnd() * 2 - 1, rnd() * 2 - 1];
      const e = s.map((v) => Math.exp(2.5 * v));
      const z = e.reduce((a, b) => a + b, 0);
      const u = rnd() * z;
      y.push(u < (e[0] as number) ? 0 : u < (e[0] as number) + (e[1] as number) ? 1 : 2);
      scores.push(s);
    }

    // Act
    const T = fitTemperature(scores, y);
    const affine = fitAffine(scores, y, 3);

    // Assess
    expect(T).toBeGreaterThan(2.1);
    expect(T).toBeLessThan(2.9);
    expect(affine.temperature).toBeGreaterThan(2.1);
    expect(affine.temperature).toBeLessThan(2.9);
    for (const b of affine.bias) expect(Math.abs(b)).toBeLessThan(0.2);
  });
});

describe('Function: fitMatrixCalibration', () => {
  it('should learn a cross-label correction that vector scaling cannot, deterministically', () => {
    // Prepare: labels drawn from softmax(A·s) with off-diagonal terms (label 1 reads label 0's score)
    const rnd = seededRandom(5);
    const A = [
      [2, 0, 0],
      [1.5, 2, 0],
      [0, 0, 2],
    ];
    const scores: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = [rnd() * 2 - 1, rnd() * 2 - 1, rnd() * 2 - 1];
      const e = A.map((row) => Math.exp(row.reduce((acc, a, j) => acc + a * (s[j] as number), 0)));
      const z = e.reduce((a, b) => a + b, 0);
      const u = rnd() * z;
      y.push(u < (e[0] as number) ? 0 : u < (e[0] as number) + (e[1] as number) ? 1 : 2);
      scores.push(s);
    }
    const nll = (p: (s: number[]) => number[]) =>
      -scores.reduce((acc, s, i) => acc + Math.log(p(s)[y[i] as number] as number), 0) / scores.length;
    const softmax = (z: number[]) => {
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const t = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / t);
    };

    // Act
    const affine = fitAffine(scores, y, 3);
    const fit = fitMatrixCalibration(scores, y, 3, 1);
    const again = fitMatrixCalibration(scores, y, 3, 1);

    // Assess: label 1 reads label 0's score (softmax sees a column only up to a shift, so against label 2's entry:
    // 1.5 − 0 in A), and the fit explains the labels better than vector scaling
    expect(again).toEqual(fit);
    expect(fit.matrix).toHaveLength(9);
    expect((fit.matrix[3] as number) - (fit.matrix[6] as number)).toBeGreaterThan(1.2);
    expect((fit.matrix[3] as number) - (fit.matrix[6] as number)).toBeLessThan(1.8);
    const byMatrix = nll((s) =>
      softmax(
        [0, 1, 2].map(
          (k) =>
            (fit.bias[k] as number) +
            [0, 1, 2].reduce((a, j) => a + (fit.matrix[k * 3 + j] as number) * (s[j] as number), 0),
        ),
      ),
    );
    const byAffine = nll((s) => softmax(s.map((v, k) => v * affine.temperature + (affine.bias[k] as number))));
    expect(byMatrix).toBeLessThan(byAffine - 0.01);
  });
});

describe('Function: assignFolds', () => {
  it('should keep identical texts in one fold and spread each label over all folds', () => {
    // Prepare
    const data = [...syntheticExamples(10), ...syntheticExamples(10)];

    // Act
    const folds = assignFolds(data, 5, 1);

    // Assess
    const byText = new Map<string, Set<number>>();
    data.forEach((e, i) => {
      const s = byText.get(e.text) ?? new Set<number>();
      s.add(folds[i] as number);
      byText.set(e.text, s);
    });
    for (const s of byText.values()) expect(s.size).toBe(1);
    for (const label of ['交通运输', '环境保护', '教育文体']) {
      const used = new Set(data.flatMap((e, i) => (e.label === label ? [folds[i]] : [])));
      expect(used.size).toBe(5);
    }
  });
});

describe('Function: crossValidate', () => {
  it('should predict every example once, from a model that did not see it', () => {
    // Prepare
    const data = syntheticExamples(15);

    // Act
    const cv = crossValidate(data, 3, { calibrationFolds: 2 });

    // Assess
    expect(cv.rows).toHaveLength(data.length);
    expect(new Set(cv.rows.map((r) => r.fold))).toEqual(new Set([0, 1, 2]));
    const acc = cv.rows.filter((r) => r.label === r.predicted).length / data.length;
    expect(acc).toBeGreaterThan(0.8);
  });
});

describe('Module: features', () => {
  it('should normalize full-width characters, case, digits and spaces', () => {
    // Assess
    expect(normalizeText('  ＡＢＣ　１２３ 路灯\n坏了 ', 100)).toBe('abc 000 路灯 坏了');
    expect(normalizeText('一二三四五', 3)).toBe('一二三');
  });

  it('should count each n-gram once per occurrence under one key', () => {
    // Act
    const f = extractFeatures('路灯路灯', { ngrams: [1, 2], maxChars: 100 });

    // Assess: 路 ×2, 灯 ×2, 路灯 ×2, 灯路 ×1
    expect(f.keys.length).toBe(4);
    expect([...f.counts].sort()).toEqual([1, 2, 2, 2]);
    expect(new Set(f.keys).size).toBe(4);
  });

  it('should round-trip sorted keys through the Rice code and find them in the index', () => {
    // Prepare
    const rnd = seededRandom(3);
    const keys = Uint32Array.from(new Set(Array.from({ length: 2000 }, () => Math.floor(rnd() * 2 ** 32)))).sort();
    keys[keys.length - 1] = 0xffffffff;
    const b = riceParameter(keys);

    // Act
    const bytes = encodeKeysRice(keys, b);
    const back = decodeKeysRice(bytes, keys.length, b);
    const index = new KeyIndex(keys);

    // Assess: about log2(mean gap) + 1.5 bits a key, and every parameter decodes what it encoded
    expect(b).toBeGreaterThanOrEqual(20);
    expect(b).toBeLessThanOrEqual(22);
    expect(bytes.length).toBeLessThan(keys.length * 3);
    expect(back.length).toBe(bytes.length);
    expect([...back.keys]).toEqual([...keys]);
    for (const p of [18, 24, 31])
      expect([...decodeKeysRice(encodeKeysRice(keys.subarray(0, 50), p), 50, p).keys]).toEqual([
        ...keys.subarray(0, 50),
      ]);
    expect(() => decodeKeysRice(bytes.subarray(0, bytes.length - 8), keys.length, b)).toThrow(/truncated/);
    keys.forEach((k, r) => {
      expect(index.get(k)).toBe(r);
    });
    expect(index.get(((keys[0] as number) + 1) >>> 0) === 0).toBe(false);
  });
});
