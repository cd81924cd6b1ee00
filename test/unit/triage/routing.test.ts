import { describe, expect, it } from 'vitest';
import { findStreet, routeCase } from '#core/routing.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import type { Category } from '#core/taxonomy/types.ts';

const cat = (code: string) => defaultTaxonomy.categories.find((c) => c.code === code) as Category;
const streetCategory = defaultTaxonomy.categories.find((c) => c.department === 'street') as Category;

describe('Function: routeCase', () => {
  it('should send a functional category to its department', () => {
    expect(routeCase(cat('SZ-01'), undefined, '', defaultDepartments)).toEqual({
      department: 'chengguan',
      decision: 'auto',
      reason: 'category',
    });
  });

  it('should send a 属地 category to the street office of the place (longest place name wins)', () => {
    // Act
    const r = routeCase(streetCategory, { address: '坪山区龙田街道兰竹路12号' }, '', defaultDepartments);
    // Assess
    expect(r).toEqual({ department: 'street-longtian', decision: 'auto', reason: 'street-by-location' });
    expect(findStreet(defaultDepartments, undefined, '坑梓街道秀新社区门口')?.id).toBe('street-kengzi');
  });

  it('should send an unplaceable 属地 request and an unknown category to manual triage', () => {
    expect(routeCase(streetCategory, { address: '不知道在哪' }, '', defaultDepartments)).toMatchObject({
      department: 'centre',
      decision: 'manual',
      reason: 'no-street',
    });
    expect(routeCase(undefined, undefined, '', defaultDepartments)).toMatchObject({
      decision: 'manual',
      reason: 'no-category',
    });
    expect(
      routeCase({ code: 'X', name: 'x', keywords: [], department: 'nowhere' }, undefined, '', defaultDepartments),
    ).toMatchObject({ decision: 'manual', reason: 'unknown-department' });
  });

  it('should route every leaf category of the shipped taxonomy to a known department or the street backstop', () => {
    const parents = new Set(defaultTaxonomy.categories.map((c) => c.parent));
    const ids = new Set(defaultDepartments.map((d) => d.id));
    for (const c of defaultTaxonomy.categories.filter((x) => !parents.has(x.code))) {
      expect(c.department === 'street' || ids.has(c.department ?? ''), c.code).toBe(true);
    }
  });
});
