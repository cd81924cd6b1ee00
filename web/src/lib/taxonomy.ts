/**
 * 事项清单 and departments for the pages: `/data/taxonomy.json`, generated at build from config/taxonomy.json and
 * config/departments.json (scripts/build-web.ts). Citizens get category help from the same keyword rules triage uses
 * (core/classify/keywords.ts), run in the browser: no API call per keystroke.
 */
import { createKeywordClassifier, type KeywordClassifier } from '../../../core/classify/keywords.ts';
import type { Category, Department } from '../../../core/taxonomy/types.ts';

export interface PagesTaxonomy {
  version: string;
  categories: Category[];
  departments: Department[];
}

export interface Catalog extends PagesTaxonomy {
  byCode: Map<string, Category>;
  /** Categories a case can be filed under (they name a department or the street marker). */
  leaves: Category[];
  departmentName(id: string | null | undefined): string;
  categoryName(code: string | null | undefined): string;
  classifier: KeywordClassifier;
}

let load: Promise<Catalog> | undefined;

export function catalog(): Promise<Catalog> {
  load ??= fetch('/data/taxonomy.json')
    .then((r) => {
      if (!r.ok) throw new Error(`taxonomy ${r.status}`);
      return r.json() as Promise<PagesTaxonomy>;
    })
    .then(buildCatalog)
    .catch((e) => {
      load = undefined;
      throw e;
    });
  return load;
}

export function buildCatalog(t: PagesTaxonomy): Catalog {
  const byCode = new Map(t.categories.map((c) => [c.code, c]));
  const parents = new Set(t.categories.map((c) => c.parent).filter(Boolean));
  const leaves = t.categories.filter((c) => !parents.has(c.code) && c.department);
  const depts = new Map(t.departments.map((d) => [d.id, d.name]));
  return {
    ...t,
    byCode,
    leaves,
    departmentName: (id) => (id ? (depts.get(id) ?? id) : '-'),
    categoryName: (code) => (code ? (byCode.get(code)?.name ?? code) : '-'),
    classifier: createKeywordClassifier({ version: t.version, categories: t.categories }),
  };
}

export interface CategoryHint {
  code: string;
  name: string;
  parentName?: string;
  confidence: number;
}

/** Up to three likely categories for what the citizen typed, best first. */
export function suggestCategories(cat: Catalog, title: string, text: string): CategoryHint[] {
  if ((title + text).trim().length < 2) return [];
  const v = cat.classifier.classify({ title, text });
  return v.alternatives.flatMap((a) => {
    const c = cat.byCode.get(a.category);
    if (!c) return [];
    const parent = c.parent ? cat.byCode.get(c.parent)?.name : undefined;
    return [{ code: c.code, name: c.name, confidence: a.confidence, ...(parent ? { parentName: parent } : {}) }];
  });
}
