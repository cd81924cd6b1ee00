import { describe, expect, it } from 'vitest';
import { createKeywordClassifier } from '#core/classify/keywords.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';

const classifier = createKeywordClassifier(defaultTaxonomy);

describe('Function: createKeywordClassifier', () => {
  it('should pick the category whose keywords the request names', () => {
    const v = classifier.classify({ title: '路灯不亮', text: '和平路88号门口的路灯坏了一个星期' });
    expect(v).toMatchObject({ category: 'SZ-01', decision: 'auto', reason: 'keyword-rule' });
    expect(v.confidence).toBeGreaterThan(0.5);
  });

  it('should send a request without any known keyword to manual triage', () => {
    expect(classifier.classify({ text: '你好，我想问个事情' })).toMatchObject({
      decision: 'manual',
      reason: 'no-keyword',
    });
  });

  it('should take a valid category hint as a strong hint, and ignore an unknown one', () => {
    const code = defaultTaxonomy.categories.find((c) => c.code === 'SZ-02')?.code as string;
    expect(classifier.classify({ text: '这里有问题', categoryHint: code })).toMatchObject({
      category: code,
      reason: 'hint',
    });
    expect(classifier.classify({ text: '这里有问题', categoryHint: 'NOPE' })).toMatchObject({ decision: 'manual' });
  });
});
