/**
 * 事项清单 (taxonomy) and departments as data: `config/taxonomy.json` and `config/departments.json`.
 */
export type DepartmentKind = 'functional' | 'street' | 'centre';

export interface Department {
  /** Short ascii id, used in queue names, rules and API paths, e.g. `zhujian`, `street-pingshan`. */
  id: string;
  /** Chinese name shown to people, e.g. 区住房和建设局. */
  name: string;
  /** functional 职能部门; street 属地街道 (the backstop, 街镇托底); centre the 12345 centre itself (人工分拨, 督办). */
  kind: DepartmentKind;
  /** For streets: the place names that belong to it (社区, roads), used by 属地 routing. */
  areas?: string[];
}

export interface Category {
  /** e.g. `CJ-01-03`; first level has no parent. */
  code: string;
  name: string;
  parent?: string;
  /**
   * Department id that handles it (leaf categories must have one). The marker value `"street"` (not a department id)
   * means 属地: the street office is chosen from the request's location (街镇托底), as for the 属地综合 catch-all.
   * Not-understood requests are not a category at all: they go to manual triage (人工分拨, department `centre`).
   */
  department?: string;
  /** SLA policy id (see core/sla), e.g. `standard`, `urgent-utility`, `consult`. */
  slaPolicy?: string;
  /** Keywords that act as rules for the classifier. */
  keywords: string[];
  /**
   * Labels of the trained model that map to this category (first-level labels of the training data). Set on a
   * first-level category, it covers all of its leaves: the classifier picks among them by keywords.
   */
  modelLabels?: string[];
  /**
   * Optional. Model labels for which this leaf is the default when the model is sure of the label but no keyword picks
   * a more specific leaf (e.g. the 「城乡建设其他」 leaf for 城乡建设). At most one leaf per label.
   */
  defaultFor?: string[];
  /** Dedupe grouping: categories in one group may merge into one incident. */
  group?: string;
}

export interface Taxonomy {
  version: string;
  categories: Category[];
}
