import { describe, expect, it } from 'vitest';
import { createClassifier, keywordConfidence, recordCorrection, toCsvLine } from '#core/classify/classifier.ts';
import { parseCsv } from '#core/classify/csv.ts';
import { defaultClassifier, defaultTaxonomy, defaultThresholds } from '#core/classify/default.ts';
import type { ModelArtifact, Prediction, TextModel } from '#core/classify/model.ts';
import { indexTaxonomy } from '#core/classify/taxonomy.ts';
import { CityLoopError } from '#core/errors.ts';

const LABELS = ['交通运输', '劳动和社会保障', '卫生计生', '商贸旅游', '城乡建设', '教育文体', '环境保护'];

/** A model double with fixed probabilities, so that the rules can be checked apart from what a model learned. */
function fixedModel(probs: Record<string, number>): TextModel {
  const p = Float64Array.from(LABELS, (l) => probs[l] ?? 0);
  return {
    labels: LABELS,
    artifact: {} as ModelArtifact,
    probabilities: () => p,
    predict: (): Prediction => {
      throw new Error('not used by the classifier');
    },
  };
}

const taxonomy = defaultTaxonomy;

describe('Function: createClassifier (keyword-only fallback)', () => {
  it('should pick the leaf of the strongest keyword and its department', () => {
    // Prepare
    const c = createClassifier({ taxonomy });

    // Act
    const r = c.classify({ title: '路灯', text: '小区门口路灯不亮已经三天' });

    // Assess
    expect(r).toMatchObject({ category: 'SZ-01', department: 'chengguan', decision: 'auto', reason: 'keyword-rule' });
    expect(r.matchedKeywords).toEqual(expect.arrayContaining(['路灯不亮']));
    const score = (r.matchedKeywords ?? []).reduce((n, k) => n + k.length, 0);
    expect(r.confidence).toBeCloseTo(keywordConfidence(score), 9);
  });

  it('should send a request nothing matches to manual triage at the centre', () => {
    // Act
    const r = createClassifier({ taxonomy }).classify({ text: '你好，请问一下' });

    // Assess
    expect(r).toEqual({
      confidence: 0,
      alternatives: [],
      department: 'centre',
      decision: 'manual',
      reason: 'no-match',
    });
  });

  it('should prefer the longer keyword where two leaves overlap', () => {
    // Act
    const r = createClassifier({ taxonomy }).classify({ text: '楼道里闻到燃气泄漏的味道' });

    // Assess
    expect(r.category).toBe('GY-06');
    expect(r.alternatives.map((a) => a.category)).toContain('GY-07');
  });
});

describe('Function: createClassifier (thresholds)', () => {
  it('should route below the default threshold to manual triage, keeping the suggestion', () => {
    // Prepare
    const model = fixedModel({ 城乡建设: 0.55, 商贸旅游: 0.45 });

    // Act
    const r = createClassifier({ taxonomy, model }).classify({ text: '垃圾站没人清理' });

    // Assess
    expect(r).toMatchObject({ category: 'CG-01', department: 'centre', decision: 'manual', reason: 'below-threshold' });
    expect(r.confidence).toBeCloseTo(0.55, 9);
  });

  it('should honour per-category thresholds over the default', () => {
    // Prepare
    const model = fixedModel({ 城乡建设: 0.9, 商贸旅游: 0.1 });
    const strict = createClassifier({ taxonomy, model, thresholds: { default: 0.6, byCategory: { 'CG-01': 0.95 } } });
    const loose = createClassifier({ taxonomy, model, thresholds: { default: 0.95 } });

    // Act
    const garbage = strict.classify({ text: '垃圾站没人清理' });
    const lamp = strict.classify({ text: '路灯不亮' });
    const lampLoose = loose.classify({ text: '路灯不亮' });

    // Assess
    expect(garbage.decision).toBe('manual');
    expect(lamp).toMatchObject({ category: 'SZ-01', decision: 'auto', department: 'chengguan' });
    expect(lampLoose.decision).toBe('manual');
  });

  it('should accept a valid category hint as is, and ignore an unknown one', () => {
    // Prepare
    const c = createClassifier({ taxonomy, model: fixedModel({ 环境保护: 1 }) });

    // Act
    const hinted = c.classify({ text: '随便什么', categoryHint: 'JT-03' });
    const byName = c.classify({ text: '随便什么', categoryHint: '停车管理' });
    const unknown = c.classify({ text: '随便什么', categoryHint: 'NOPE-99' });

    // Assess
    expect(hinted).toMatchObject({
      category: 'JT-03',
      department: 'gongan',
      decision: 'auto',
      reason: 'hint',
      confidence: 1,
    });
    expect(byName.category).toBe('JT-03');
    expect(unknown).toMatchObject({ category: 'HB-08', reason: 'model' });
  });
});

describe('Function: createClassifier (rules with a model)', () => {
  it("should let keywords pick the leaf inside the model's label", () => {
    // Prepare
    const c = createClassifier({ taxonomy, model: fixedModel({ 环境保护: 0.9, 城乡建设: 0.1 }) });

    // Act
    const r = c.classify({ text: '工地夜间施工，吵得睡不着' });

    // Assess
    expect(r).toMatchObject({
      category: 'HB-01',
      label: '环境保护',
      department: 'huanbao',
      decision: 'auto',
      reason: 'keyword-rule',
    });
    expect(r.confidence).toBeCloseTo(0.9, 9);
  });

  it("should fall back to the label's default leaf when no keyword of the label matches", () => {
    // Act
    const r = createClassifier({ taxonomy, model: fixedModel({ 劳动和社会保障: 0.97, 城乡建设: 0.03 }) }).classify({
      text: '这种做法不合理',
    });

    // Assess
    expect(r).toMatchObject({
      category: 'RS-07',
      label: '劳动和社会保障',
      department: 'renshe',
      reason: 'model',
      decision: 'auto',
    });
  });

  it('should force an emergency leaf on a strong keyword hit even against a confident model', () => {
    // Prepare
    const c = createClassifier({ taxonomy, model: fixedModel({ 教育文体: 0.99, 城乡建设: 0.01 }) });

    // Act
    const r = c.classify({ text: '学校旁边闻到燃气味，可能燃气泄漏' });

    // Assess
    expect(r).toMatchObject({ category: 'GY-06', department: 'zhujian', decision: 'auto', reason: 'keyword-rule' });
    expect(r.alternatives[0]).toMatchObject({ label: '教育文体', confidence: 0.99 });
  });

  it('should not force a non-emergency leaf against a confident model', () => {
    // Act
    const r = createClassifier({ taxonomy, model: fixedModel({ 教育文体: 0.99, 城乡建设: 0.01 }) }).classify({
      text: '学校门口路灯不亮',
    });

    // Assess: 路灯 is 城乡建设, the model says 教育文体: the model's label stands
    expect(r.label).toBe('教育文体');
    expect(r.category?.startsWith('JY-')).toBe(true);
  });

  it('should use keywords for subjects the model has no label for, unless the model is sure of a specific leaf', () => {
    // Prepare
    const unsure = createClassifier({ taxonomy, model: fixedModel({ 城乡建设: 0.6, 商贸旅游: 0.4 }) });
    const sure = createClassifier({ taxonomy, model: fixedModel({ 城乡建设: 0.95, 商贸旅游: 0.05 }) });
    const text = '楼上邻居装修，邻里纠纷协商不成，物业不管';

    // Act
    const a = unsure.classify({ text });
    const b = sure.classify({ text });

    // Assess
    expect(a).toMatchObject({ category: 'ZH-02', department: 'street', reason: 'keyword-rule', decision: 'auto' });
    expect(b).toMatchObject({ category: 'ZF-01', department: 'zhujian', reason: 'keyword-rule', label: '城乡建设' });
  });

  it('should pool the probability of labels that lead to the same leaf', () => {
    // Act: 公交 is covered by both 交通运输 and 城乡建设
    const r = createClassifier({
      taxonomy,
      model: fixedModel({ 交通运输: 0.45, 城乡建设: 0.4, 商贸旅游: 0.15 }),
    }).classify({
      text: '公交车司机态度恶劣',
    });

    // Assess
    expect(r).toMatchObject({ category: 'JT-02', label: '交通运输', decision: 'auto' });
    expect(r.confidence).toBeCloseTo(0.85, 9);
  });
});

describe('Function: defaultClassifier (shipped taxonomy and model)', () => {
  it('should route everyday requests to the right department', () => {
    // Prepare
    const c = defaultClassifier();
    const cases: [string, string][] = [
      ['小区门口的路灯坏了一个星期，晚上出行很不方便', 'SZ-01'],
      ['公司拖欠三个月工资不发，请劳动监察部门帮忙', 'RS-01'],
      ['河道污水直排，河水发臭', 'HB-05'],
      ['孩子入学学位怎么申请，积分入学政策是什么', 'JY-01'],
    ];

    // Act & Assess
    for (const [text, code] of cases) {
      const r = c.classify({ text });
      expect(r.category, text).toBe(code);
      expect(r.decision, text).toBe('auto');
    }
  });
});

describe('Function: recordCorrection', () => {
  it('should turn a correction into a training row with the covering model label', () => {
    // Act
    const row = recordCorrection(taxonomy, { title: '噪音', text: '广场舞音响太吵', category: 'HB-02' });

    // Assess
    expect(row).toEqual({ text: '噪音\n广场舞音响太吵', label: '环境保护', category: 'HB-02' });
  });

  it('should use the first-level name for a leaf that no model label covers, and refuse unknown codes', () => {
    // Act
    const row = recordCorrection(taxonomy, { text: '低保申请一直没有批', category: 'MZ-01' });

    // Assess
    expect(row.label).toBe('民政与社会服务');
    expect(() => recordCorrection(taxonomy, { text: 'x', category: 'MZ' })).toThrow(CityLoopError);
  });

  it('should write a CSV line that reads back to the same row', () => {
    // Prepare
    const row = { text: '他说"明天修"，\n结果没来', label: '城乡建设' };

    // Act
    const parsed = parseCsv(`text,label\n${toCsvLine(row)}\n`);

    // Assess
    expect(parsed[1]).toEqual([row.text, row.label]);
  });
});

describe('Shipped thresholds (config/model/thresholds.json)', () => {
  const index = indexTaxonomy(defaultTaxonomy);

  it('should name only catch-all leaves, stricter than the default', () => {
    const catchAll = new Set([...index.defaultByLabel.values()].map((l) => l.code));
    const codes = Object.keys(defaultThresholds.byCategory ?? {});
    expect(codes.sort()).toEqual([...catchAll].sort());
    for (const code of codes)
      expect(defaultThresholds.byCategory?.[code]).toBeGreaterThan(defaultThresholds.default ?? 0);
  });

  it('should hold a request no keyword names for a person, even when the model is fairly sure of the sector', () => {
    // Act
    const r = defaultClassifier().classify({ title: '咨询一个情况', text: '我想反映一下那个事情，请联系我，谢谢' });
    // Assess: the model's sector lands on a catch-all leaf below its threshold.
    expect(r.reason).toBe('below-threshold');
    expect(r).toMatchObject({ decision: 'manual', department: 'centre' });
    expect(index.leaves.find((l) => l.code === r.category)?.name).toMatch(/其他$/);
  });

  it('should dispatch a strong hit on an emergency leaf at once, whatever the thresholds', () => {
    // Prepare: a model that knows nothing and a threshold nobody reaches.
    const c = createClassifier({
      taxonomy,
      model: fixedModel({ 商贸旅游: 0.5, 教育文体: 0.5 }),
      thresholds: { default: 0.999 },
    });
    // Act
    const r = c.classify({ text: '楼道里有很浓的燃气泄漏的味道' });
    // Assess
    expect(r).toMatchObject({ category: 'GY-06', decision: 'auto', reason: 'keyword-rule', department: 'zhujian' });
  });
});
