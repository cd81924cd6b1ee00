/**
 * What triage needs besides the ports: the 事项清单, the departments and the classifier, loaded once per container.
 */
import { createKeywordClassifier } from '#core/classify/keywords.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import type { Category } from '#core/taxonomy/types.ts';
import type { Classify, TriageContext } from '#core/triage/triage.ts';

let cached: { classify: Classify; categories: Map<string, Category> } | undefined;

function load() {
  if (!cached) {
    const classifier = createKeywordClassifier(defaultTaxonomy);
    cached = {
      classify: (input) => classifier.classify(input),
      categories: new Map(defaultTaxonomy.categories.map((c) => [c.code, c])),
    };
  }
  return cached;
}

export function triageContext(now: Date): TriageContext {
  const { classify, categories } = load();
  return { classify, categories, departments: defaultDepartments, now: toShanghaiIso(now) };
}

export function departmentName(id: string | undefined): string | undefined {
  return defaultDepartments.find((d) => d.id === id)?.name;
}
