/**
 * Routing (派单): category → department, with the 属地 street offices as the backstop ("以条为主、街镇托底").
 * A category whose department is the street marker goes to the street office of the place; a place we cannot place,
 * or a category we do not know, goes to manual triage (人工分拨) rather than to a guess.
 */
import type { Location } from './intake/schema.ts';
import type { Category, Department } from './taxonomy/types.ts';

export const STREET_MARKER = 'street';
export const MANUAL_TRIAGE = 'centre';

export type RouteDecision =
  | { department: string; decision: 'auto'; reason: 'category' | 'street-by-location' }
  | {
      department: typeof MANUAL_TRIAGE;
      decision: 'manual';
      reason: 'no-category' | 'no-street' | 'unknown-department';
    };

/** The street office whose areas (街道, 社区, roads) appear in the address, the street/district fields or the text. */
export function findStreet(
  departments: Department[],
  location: Location | undefined,
  text: string,
): Department | undefined {
  const haystacks = [location?.street, location?.address, location?.district, text].filter(
    (s): s is string => typeof s === 'string' && s !== '',
  );
  let best: { dept: Department; len: number } | undefined;
  for (const h of haystacks) {
    for (const d of departments) {
      if (d.kind !== 'street') continue;
      for (const area of [d.name.replace(/办事处$/, ''), ...(d.areas ?? [])]) {
        // The longest matching place name wins: 坪山大道 beats 坪山.
        if (area && h.includes(area) && (!best || area.length > best.len)) best = { dept: d, len: area.length };
      }
    }
    if (best) return best.dept;
  }
  return undefined;
}

export function routeCase(
  category: Category | undefined,
  location: Location | undefined,
  text: string,
  departments: Department[],
): RouteDecision {
  if (!category?.department) return { department: MANUAL_TRIAGE, decision: 'manual', reason: 'no-category' };
  if (category.department === STREET_MARKER) {
    const street = findStreet(departments, location, text);
    return street
      ? { department: street.id, decision: 'auto', reason: 'street-by-location' }
      : { department: MANUAL_TRIAGE, decision: 'manual', reason: 'no-street' };
  }
  if (!departments.some((d) => d.id === category.department)) {
    return { department: MANUAL_TRIAGE, decision: 'manual', reason: 'unknown-department' };
  }
  return { department: category.department, decision: 'auto', reason: 'category' };
}
