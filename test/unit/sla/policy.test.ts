import { describe, expect, it } from 'vitest';
import policiesFile from '#config/sla-policies.json' with { type: 'json' };
import taxonomyFile from '#config/taxonomy.json' with { type: 'json' };
import { isCityLoopError } from '#core/errors.ts';
import { NATURES } from '#core/intake/schema.ts';
import { defaultPolicyBook, resolvePolicy, SlaPolicyBook, URGENCIES } from '#core/sla/policy.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isCityLoopError(e) ? e.code : `not a CityLoopError: ${String(e)}`;
  }
  return undefined;
}

describe('Class: SlaPolicyBook', () => {
  it('should know every policy id the taxonomy uses', () => {
    // Prepare
    const used = new Set(
      (taxonomyFile.categories as { slaPolicy?: string }[]).flatMap((c) => (c.slaPolicy ? [c.slaPolicy] : [])),
    );

    // Assess
    expect([...used].sort()).toEqual(['complex', 'consult', 'emergency', 'standard', 'urgent-utility']);
    for (const id of used) expect(defaultPolicyBook().policyIds).toContain(id);
  });

  it('should resolve a complete policy for every nature × urgency × policy id', () => {
    // Act
    const all = defaultPolicyBook().policyIds.flatMap((policyId) =>
      NATURES.flatMap((nature) => URGENCIES.map((urgency) => resolvePolicy({ nature, urgency, policyId }))),
    );

    // Assess
    expect(all).toHaveLength(5 * 5 * 3);
    for (const p of all) {
      expect(p.rules[0]).toBe('default');
      expect(p.returnWindow).toEqual({ workingDays: 2 });
      expect(p.maxExtension).toEqual({ workingDays: 10 });
      expect('hours' in p.dispatch.limit).toBe(true);
    }
  });

  it.each([
    ['standard', '投诉', 'normal', { workingDays: 5 }, { hours: 4 }, ['default']],
    ['standard', '求助', 'normal', { workingDays: 5 }, { hours: 4 }, ['default']],
    ['standard', '咨询', 'normal', { workingDays: 3 }, { hours: 4 }, ['default', 'nature-consult']],
    [
      'consult',
      '咨询',
      'normal',
      { workingDays: 1 },
      { hours: 4 },
      ['default', 'policy-consult', 'nature-consult', 'consult-question'],
    ],
    ['consult', '投诉', 'normal', { workingDays: 3 }, { hours: 4 }, ['default', 'policy-consult']],
    ['complex', '投诉', 'normal', { workingDays: 15 }, { hours: 4 }, ['default', 'policy-complex']],
    ['complex', '咨询', 'normal', { workingDays: 3 }, { hours: 4 }, ['default', 'policy-complex', 'nature-consult']],
    ['standard', '举报', 'normal', { workingDays: 15 }, { hours: 4 }, ['default', 'nature-report']],
    ['standard', '建议', 'normal', { workingDays: 15 }, { hours: 4 }, ['default', 'nature-suggestion']],
    [
      'urgent-utility',
      '求助',
      'urgent',
      { workingDays: 2 },
      { hours: 2 },
      ['default', 'policy-urgent-utility', 'urgency-urgent'],
    ],
    [
      'emergency',
      '求助',
      'emergency',
      { hours: 24 },
      { hours: 1 },
      ['default', 'policy-emergency', 'urgency-emergency'],
    ],
    [
      'emergency',
      '咨询',
      'emergency',
      { hours: 24 },
      { hours: 1 },
      ['default', 'policy-emergency', 'nature-consult', 'urgency-emergency'],
    ],
    ['standard', '投诉', 'emergency', { hours: 24 }, { hours: 1 }, ['default', 'urgency-emergency']],
  ] as const)(
    'should give %s/%s/%s resolve %o and dispatch %o',
    (policyId, nature, urgency, resolve, dispatch, rules) => {
      // Act
      const p = resolvePolicy({ nature, urgency, policyId });

      // Assess
      expect(p.resolve.limit).toEqual(resolve);
      expect(p.dispatch.limit).toEqual(dispatch);
      expect(p.rules).toEqual(rules);
      expect(p.id).toBe(`${policyId}/${nature}/${urgency}`);
    },
  );

  it('should keep fields a more specific rule does not set (warnBefore of the default under policy-consult)', () => {
    // Act
    const p = resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'consult' });

    // Assess
    expect(p.resolve).toEqual({ limit: { workingDays: 3 }, warnBefore: { workingDays: 1 } });
  });

  it('should use the default policy id for cases without a category', () => {
    // Act
    const p = resolvePolicy({ nature: '求助', urgency: 'normal' });

    // Assess
    expect(p.policyId).toBe('standard');
  });

  it('should refuse an unknown policy id instead of silently defaulting', () => {
    // Assess
    expect(codeOf(() => resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standrad' }))).toBe(
      'UNKNOWN_SLA_POLICY',
    );
    expect(codeOf(() => resolvePolicy({ nature: '抱怨' as '投诉', urgency: 'normal' }))).toBe('UNKNOWN_NATURE');
  });

  it('should hand out frozen policies (they are shared by every caller)', () => {
    // Act
    const p = resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standard' });

    // Assess
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.resolve.limit)).toBe(true);
    expect(resolvePolicy({ nature: '投诉', urgency: 'normal', policyId: 'standard' })).toBe(p);
  });

  it.each([
    [
      'a rule for an unknown policy id',
      { rules: [...policiesFile.rules, { id: 'x', match: { policyId: 'nope' }, set: {} }] },
    ],
    ['no complete default', { rules: policiesFile.rules.slice(1) }],
    ['a duplicate rule id', { rules: [...policiesFile.rules, { ...policiesFile.rules[1]! }] }],
    [
      'a duration in two units',
      { rules: [...policiesFile.rules, { id: 'y', match: {}, set: { returnWindow: { hours: 1, workingDays: 1 } } }] },
    ],
    [
      'a negative limit',
      { rules: [...policiesFile.rules, { id: 'z', match: {}, set: { dispatch: { limit: { hours: -1 } } } }] },
    ],
    ['an unknown default policy id', { defaultPolicyId: 'nope' }],
  ])('should refuse a policy file with %s', (_label, patch) => {
    // Assess
    expect(codeOf(() => SlaPolicyBook.create({ ...policiesFile, ...patch }))).toBe('INVALID_SLA_POLICY');
  });
});
