import { describe, expect, it } from 'vitest';
import officialFile from '#config/calendar/official-cn.json' with { type: 'json' };
import overridesFile from '#config/calendar/overrides.json' with { type: 'json' };
import policiesFile from '#config/sla-policies.json' with { type: 'json' };
import { defaultCalendar } from '#core/calendar/default.ts';
import { WorkingCalendar } from '#core/calendar/working-calendar.ts';
import { NATURES } from '#core/intake/schema.ts';
import { defaultPolicyBook, SlaPolicyBook, URGENCIES } from '#core/sla/policy.ts';
import { checkShippedConfig } from '#infra/config-check.ts';

const shipped = { official: officialFile, overrides: overridesFile, policies: policiesFile };

describe('Function: checkShippedConfig', () => {
  it('should accept the shipped calendar and SLA policy files', () => {
    // Act + Assess
    expect(() => checkShippedConfig()).not.toThrow();
  });

  it('should name the calendar files when the official snapshot does not match its schema', () => {
    // Prepare
    const broken = { ...shipped, official: { ...officialFile, coveredFrom: 'last spring' } };
    // Act + Assess
    expect(() => checkShippedConfig(broken)).toThrow(/^config\/calendar\/official-cn\.json \+ overrides\.json: /);
  });

  it('should name the policy file when a rule matches a policy id the file does not declare', () => {
    // Prepare
    const rules = [...policiesFile.rules, { ...policiesFile.rules[0], id: 'extra', match: { policyId: 'nowhere' } }];
    const broken = { ...shipped, policies: { ...policiesFile, rules } };
    // Act + Assess
    expect(() => checkShippedConfig(broken)).toThrow(/^config\/sla-policies\.json: .*nowhere/);
  });
});

describe('Shipped config: trusted builds at run time', () => {
  it('should give the same calendar as the validated build', () => {
    // Prepare
    const checked = WorkingCalendar.create(officialFile, overridesFile);
    const trusted = defaultCalendar();
    // Act + Assess
    expect(trusted.version).toBe(checked.version);
    expect(trusted.coveredUntil).toBe(checked.coveredUntil);
    for (const day of ['2026-01-01', '2026-02-14', '2026-02-15', '2026-10-01', '2026-10-10', '2026-12-31']) {
      expect(trusted.isWorkingDay(day), day).toBe(checked.isWorkingDay(day));
    }
  });

  it('should resolve every policy the validated book resolves, to the same policy', () => {
    // Prepare
    const checked = SlaPolicyBook.create(policiesFile);
    const trusted = defaultPolicyBook();
    // Act + Assess
    for (const policyId of checked.policyIds) {
      for (const nature of NATURES) {
        for (const urgency of URGENCIES) {
          expect(trusted.resolve({ policyId, nature, urgency })).toEqual(
            checked.resolve({ policyId, nature, urgency }),
          );
        }
      }
    }
  });
});
