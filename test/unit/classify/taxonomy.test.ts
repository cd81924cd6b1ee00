import { describe, expect, it } from 'vitest';
import departmentsFile from '#config/departments.json' with { type: 'json' };
import taxonomyFile from '#config/taxonomy.json' with { type: 'json' };
import { indexTaxonomy, STREET_MARKER, validateTaxonomy } from '#core/classify/taxonomy.ts';
import type { Department, Taxonomy } from '#core/taxonomy/types.ts';

const taxonomy = taxonomyFile as Taxonomy;
const departments = departmentsFile.departments as Department[];
const MODEL_LABELS = ['城乡建设', '劳动和社会保障', '教育文体', '商贸旅游', '环境保护', '卫生计生', '交通运输'];
const SLA_POLICIES = ['consult', 'standard', 'complex', 'urgent-utility', 'emergency'];

describe('Config: taxonomy.json', () => {
  it('should be valid against the departments, SLA policies and model labels', () => {
    // Act
    const issues = validateTaxonomy(taxonomy, departments, { slaPolicies: SLA_POLICIES, modelLabels: MODEL_LABELS });

    // Assess
    expect(issues).toEqual([]);
  });

  it('should have at least 40 leaves under about 10 first-level groups, each with 5 to 15 keywords', () => {
    // Prepare
    const idx = indexTaxonomy(taxonomy);
    const roots = taxonomy.categories.filter((c) => c.parent === undefined);

    // Assess
    expect(idx.leaves.length).toBeGreaterThanOrEqual(40);
    expect(roots.length).toBeGreaterThanOrEqual(8);
    for (const leaf of idx.leaves) {
      expect(leaf.keywords.length, leaf.code).toBeGreaterThanOrEqual(5);
      expect(leaf.keywords.length, leaf.code).toBeLessThanOrEqual(15);
      expect(leaf.group, leaf.code).toBeTruthy();
    }
  });

  it('should have unique codes and keywords that are never shared between two leaves', () => {
    // Prepare
    const idx = indexTaxonomy(taxonomy);
    const owner = new Map<string, string>();

    // Act
    const clashes: string[] = [];
    for (const leaf of idx.leaves) {
      for (const k of leaf.keywords) {
        const prev = owner.get(k);
        if (prev !== undefined && prev !== leaf.code) clashes.push(`${k}: ${prev} ${leaf.code}`);
        owner.set(k, leaf.code);
      }
    }

    // Assess
    expect(new Set(taxonomy.categories.map((c) => c.code)).size).toBe(taxonomy.categories.length);
    expect(clashes).toEqual([]);
  });

  it('should carry a 属地综合 catch-all routed to the street backstop and no UNCLASSIFIED category', () => {
    // Prepare
    const idx = indexTaxonomy(taxonomy);

    // Assess
    const catchAll = idx.leaves.find((c) => c.name === '属地综合');
    expect(catchAll?.department).toBe(STREET_MARKER);
    expect(taxonomy.categories.some((c) => /UNCLASSIFIED/i.test(c.code))).toBe(false);
    expect(taxonomy.categories.some((c) => c.department === 'centre')).toBe(false);
  });

  it('should cover the everyday subjects of a district hotline', () => {
    // Prepare
    const all = new Set(indexTaxonomy(taxonomy).leaves.flatMap((c) => c.keywords));

    // Assess
    for (const k of [
      '路灯',
      '爆管',
      '停水',
      '停电',
      '燃气泄漏',
      '施工噪音',
      '广场舞',
      '垃圾',
      '违建',
      '物业',
      '欠薪',
      '社保',
      '入学',
      '医院',
      '食品安全',
      '价格',
      '消费者',
      '红绿灯',
      '公交',
      '停车',
      '废气',
      '污水',
      '流浪狗',
    ]) {
      expect(all.has(k), k).toBe(true);
    }
  });
});

describe('Function: validateTaxonomy', () => {
  it('should report unknown departments, missing parents, duplicate codes and unmapped labels', () => {
    // Prepare
    const bad: Taxonomy = {
      version: 't',
      categories: [
        { code: 'A', name: 'a', keywords: [], modelLabels: ['X'] },
        { code: 'A-01', name: 'a1', parent: 'A', department: 'nowhere', slaPolicy: 'standard', keywords: ['k'] },
        { code: 'A-01', name: 'dup', parent: 'A', department: 'centre', slaPolicy: 'standard', keywords: ['k2'] },
        { code: 'B-01', name: 'b1', parent: 'B', keywords: ['k3'] },
      ],
    };

    // Act
    const codes = validateTaxonomy(bad, departments, { modelLabels: ['X', 'Y'] }).map((i) => i.code);

    // Assess
    expect(codes).toEqual(
      expect.arrayContaining([
        'DUPLICATE_CODE',
        'UNKNOWN_DEPARTMENT',
        'UNKNOWN_PARENT',
        'LEAF_WITHOUT_DEPARTMENT',
        'LEAF_WITHOUT_SLA',
        'LABEL_NOT_MAPPED',
      ]),
    );
  });
});
