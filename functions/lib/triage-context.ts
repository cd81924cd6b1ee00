/**
 * What triage needs besides the ports: the 事项清单, the departments and the classifier, loaded once per container,
 * and the SLA engine's deadlines for each new case (policy from the category's `slaPolicy` × nature × urgency).
 */
import type { Case } from '#core/case.ts';
import { createKeywordClassifier } from '#core/classify/keywords.ts';
import { isCityLoopError } from '#core/errors.ts';
import { toShanghaiIso } from '#core/ids.ts';
import { defaultSlaEnv, triageDeadlines } from '#core/sla/case-sla.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import type { Category } from '#core/taxonomy/types.ts';
import type { Classify, TriageContext } from '#core/triage/triage.ts';
import { log } from './log.ts';

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

/**
 * The SLA record of a case triage opens. A category naming a policy id the policy file does not know is a
 * configuration error: it is logged and the case gets the default policy rather than failing triage (a unit test
 * keeps the shipped 事项清单 and policy file in step).
 */
export function deadlinesFor(c: Case, category: Category | undefined): Record<string, unknown> {
  const env = defaultSlaEnv();
  try {
    return triageDeadlines(c, category, env) as unknown as Record<string, unknown>;
  } catch (e) {
    if (!isCityLoopError(e) || e.code !== 'UNKNOWN_SLA_POLICY') throw e;
    log.error('unknown SLA policy on a category: default policy used', {
      category: category?.code,
      slaPolicy: category?.slaPolicy,
    });
    return triageDeadlines(c, undefined, env) as unknown as Record<string, unknown>;
  }
}

export function triageContext(now: Date): TriageContext {
  const { classify, categories } = load();
  return { classify, categories, departments: defaultDepartments, now: toShanghaiIso(now), deadlinesFor };
}

export function departmentName(id: string | undefined): string | undefined {
  return defaultDepartments.find((d) => d.id === id)?.name;
}
