/**
 * The first classifier: taxonomy keywords as rules. Each leaf category scores the keywords found in the title and text
 * (longer keywords weigh more: 路灯不亮 says more than 灯); the best leaf wins when it is clearly ahead, otherwise the
 * request goes to manual triage (人工分拨) rather than to a guess. The trained model builds on it (core/classify).
 */
import type { Category, Taxonomy } from '#core/taxonomy/types.ts';

export interface KeywordVerdict {
  category?: string;
  confidence: number;
  decision: 'auto' | 'manual';
  reason: 'keyword-rule' | 'hint' | 'no-keyword' | 'ambiguous';
  alternatives: { category: string; confidence: number }[];
}

export interface KeywordClassifier {
  classify(input: { title?: string; text: string; categoryHint?: string }): KeywordVerdict;
}

export function createKeywordClassifier(taxonomy: Taxonomy): KeywordClassifier {
  const parents = new Set(taxonomy.categories.map((c) => c.parent).filter(Boolean));
  const leaves = taxonomy.categories.filter((c) => !parents.has(c.code) && c.department);
  const byCode = new Map<string, Category>(leaves.map((c) => [c.code, c]));
  const rules = leaves.flatMap((c) =>
    c.keywords.filter((k) => k.length > 0).map((k) => ({ code: c.code, k, w: k.length })),
  );
  return {
    classify({ title, text, categoryHint }) {
      const hay = `${title ?? ''}\n${text}`;
      const scores = new Map<string, number>();
      for (const r of rules) if (hay.includes(r.k)) scores.set(r.code, (scores.get(r.code) ?? 0) + r.w);
      // A channel's category (an Open311 service_code, an agent's pick) is a strong hint, still checked against the text.
      if (categoryHint && byCode.has(categoryHint)) scores.set(categoryHint, (scores.get(categoryHint) ?? 0) + 4);
      const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const total = ranked.reduce((s, [, v]) => s + v, 0);
      const alternatives = ranked.slice(0, 3).map(([category, v]) => ({ category, confidence: v / total }));
      const [best, second] = ranked;
      if (!best) return { confidence: 0, decision: 'manual', reason: 'no-keyword', alternatives };
      const confidence = best[1] / total;
      if (second && second[1] * 1.5 > best[1]) {
        return { category: best[0], confidence, decision: 'manual', reason: 'ambiguous', alternatives };
      }
      const hinted = categoryHint === best[0];
      return {
        category: best[0],
        confidence,
        decision: 'auto',
        reason: hinted ? 'hint' : 'keyword-rule',
        alternatives,
      };
    },
  };
}
