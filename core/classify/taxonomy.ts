/**
 * The 事项清单 as the classifier sees it: leaves, which model labels cover which leaves, the default leaf per label,
 * and a validator that checks a taxonomy file against the department list (used by tests and at load time).
 */
import type { Category, Department, Taxonomy } from '#core/taxonomy/types.ts';

/** The department marker meaning 属地 (the street office chosen by location, 街镇托底). */
export const STREET_MARKER = 'street';
/** The 12345 centre: where not-understood requests go for manual triage (人工分拨). */
export const MANUAL_TRIAGE_DEPARTMENT = 'centre';

export interface TaxonomyIssue {
  code:
    | 'DUPLICATE_CODE'
    | 'UNKNOWN_PARENT'
    | 'UNKNOWN_DEPARTMENT'
    | 'LEAF_WITHOUT_DEPARTMENT'
    | 'LEAF_WITHOUT_SLA'
    | 'UNKNOWN_SLA_POLICY'
    | 'PARENT_CYCLE'
    | 'LABEL_NOT_MAPPED'
    | 'DEFAULT_NOT_COVERED'
    | 'DUPLICATE_DEFAULT'
    | 'EMPTY_KEYWORD';
  message: string;
  category?: string;
}

export interface TaxonomyIndex {
  taxonomy: Taxonomy;
  byCode: Map<string, Category>;
  /** Leaf categories (no child points at them), in file order. */
  leaves: Category[];
  /** Model label → leaves it covers (via the leaf's or an ancestor's `modelLabels`). */
  leavesByLabel: Map<string, Category[]>;
  /** Model label → the leaf to use when no keyword picks a more specific one. */
  defaultByLabel: Map<string, Category>;
  /** Leaf code → the model labels that cover it. */
  labelsOfLeaf: Map<string, string[]>;
  /** Leaf code → its first-level ancestor code. */
  rootOf: Map<string, string>;
}

function ancestors(byCode: Map<string, Category>, c: Category): Category[] {
  const out: Category[] = [];
  let cur: Category | undefined = c;
  const seen = new Set<string>();
  while (cur && !seen.has(cur.code)) {
    seen.add(cur.code);
    out.push(cur);
    cur = cur.parent === undefined ? undefined : byCode.get(cur.parent);
  }
  return out;
}

export function indexTaxonomy(taxonomy: Taxonomy): TaxonomyIndex {
  const byCode = new Map<string, Category>();
  for (const c of taxonomy.categories) if (!byCode.has(c.code)) byCode.set(c.code, c);
  const parents = new Set(taxonomy.categories.map((c) => c.parent).filter((p): p is string => p !== undefined));
  const leaves = taxonomy.categories.filter((c) => !parents.has(c.code));
  const leavesByLabel = new Map<string, Category[]>();
  const labelsOfLeaf = new Map<string, string[]>();
  const rootOf = new Map<string, string>();
  for (const leaf of leaves) {
    const chain = ancestors(byCode, leaf);
    rootOf.set(leaf.code, (chain[chain.length - 1] ?? leaf).code);
    const labels = [...new Set(chain.flatMap((c) => c.modelLabels ?? []))];
    labelsOfLeaf.set(leaf.code, labels);
    for (const l of labels) {
      const list = leavesByLabel.get(l) ?? [];
      list.push(leaf);
      leavesByLabel.set(l, list);
    }
  }
  const defaultByLabel = new Map<string, Category>();
  for (const leaf of leaves)
    for (const l of leaf.defaultFor ?? []) if (!defaultByLabel.has(l)) defaultByLabel.set(l, leaf);
  return { taxonomy, byCode, leaves, leavesByLabel, defaultByLabel, labelsOfLeaf, rootOf };
}

export interface ValidateOptions {
  /** Known SLA policy ids; when given, every leaf's slaPolicy must be one of them. */
  slaPolicies?: readonly string[];
  /** Labels of the trained model; each must map to at least one leaf and have a default leaf. */
  modelLabels?: readonly string[];
}

/** Checks a taxonomy against the departments; returns every problem found (empty = valid). */
export function validateTaxonomy(
  taxonomy: Taxonomy,
  departments: readonly Department[],
  opts: ValidateOptions = {},
): TaxonomyIssue[] {
  const issues: TaxonomyIssue[] = [];
  const deptIds = new Set(departments.map((d) => d.id));
  const seen = new Set<string>();
  for (const c of taxonomy.categories) {
    if (seen.has(c.code)) issues.push({ code: 'DUPLICATE_CODE', message: `分类编码重复 ${c.code}`, category: c.code });
    seen.add(c.code);
  }
  const idx = indexTaxonomy(taxonomy);
  const leafCodes = new Set(idx.leaves.map((l) => l.code));
  for (const c of taxonomy.categories) {
    if (c.parent !== undefined && !idx.byCode.has(c.parent)) {
      issues.push({ code: 'UNKNOWN_PARENT', message: `${c.code} 的上级 ${c.parent} 不存在`, category: c.code });
    }
    if (c.parent !== undefined) {
      let cur: Category | undefined = c;
      const path = new Set<string>();
      while (cur?.parent !== undefined) {
        if (path.has(cur.code)) {
          issues.push({ code: 'PARENT_CYCLE', message: `${c.code} 的上级关系成环`, category: c.code });
          break;
        }
        path.add(cur.code);
        cur = idx.byCode.get(cur.parent);
      }
    }
    if (c.department !== undefined && c.department !== STREET_MARKER && !deptIds.has(c.department)) {
      issues.push({ code: 'UNKNOWN_DEPARTMENT', message: `${c.code} 的部门 ${c.department} 不存在`, category: c.code });
    }
    if (leafCodes.has(c.code)) {
      if (!c.department)
        issues.push({ code: 'LEAF_WITHOUT_DEPARTMENT', message: `${c.code} 缺少承办部门`, category: c.code });
      if (!c.slaPolicy) issues.push({ code: 'LEAF_WITHOUT_SLA', message: `${c.code} 缺少时限策略`, category: c.code });
      else if (opts.slaPolicies && !opts.slaPolicies.includes(c.slaPolicy)) {
        issues.push({
          code: 'UNKNOWN_SLA_POLICY',
          message: `${c.code} 的时限策略 ${c.slaPolicy} 未定义`,
          category: c.code,
        });
      }
    }
    if (c.keywords.some((k) => k.trim() === '')) {
      issues.push({ code: 'EMPTY_KEYWORD', message: `${c.code} 有空关键词`, category: c.code });
    }
  }
  const defaultSeen = new Set<string>();
  for (const leaf of idx.leaves) {
    for (const l of leaf.defaultFor ?? []) {
      if (defaultSeen.has(l)) {
        issues.push({ code: 'DUPLICATE_DEFAULT', message: `标签 ${l} 有多个默认分类`, category: leaf.code });
      }
      defaultSeen.add(l);
      if (!(idx.labelsOfLeaf.get(leaf.code) ?? []).includes(l)) {
        issues.push({
          code: 'DEFAULT_NOT_COVERED',
          message: `${leaf.code} 是 ${l} 的默认分类但不属于该标签`,
          category: leaf.code,
        });
      }
    }
  }
  for (const l of opts.modelLabels ?? []) {
    if (!idx.leavesByLabel.get(l)?.length || !idx.defaultByLabel.has(l)) {
      issues.push({ code: 'LABEL_NOT_MAPPED', message: `模型标签 ${l} 没有对应的分类或默认分类` });
    }
  }
  return issues;
}
