import { describe, expect, it } from 'vitest';
import { defaultSlaEnv, policyForCase, triageDeadlines } from '#core/sla/case-sla.ts';
import { caseDueKey, DUE_SHARDS, PROVISIONAL_ALARM_FIELD, provisionalAlarmOwed } from '#core/sla/due-key.ts';
import { defaultPolicyBook } from '#core/sla/policy.ts';
import { recordFired } from '#core/sla/sweep.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { makeCase, recordOf, standardRecord } from './case-fixtures.ts';

describe('Function: policyForCase', () => {
  it('should take the policy id from the category of the 事项清单', () => {
    // Act
    const gas = policyForCase({ nature: '求助', urgency: 'emergency', category: 'GY-06' });
    const plain = policyForCase({ nature: '投诉', urgency: 'normal', category: undefined });
    // Assess
    expect(gas.id).toBe('emergency/求助/emergency');
    expect(plain.id).toBe('standard/投诉/normal');
  });

  it('should know every policy id the shipped 事项清单 names', () => {
    // Prepare
    const known = new Set(defaultPolicyBook().policyIds);
    // Act
    const unknown = defaultTaxonomy.categories.filter((c) => c.slaPolicy !== undefined && !known.has(c.slaPolicy));
    // Assess
    expect(unknown.map((c) => c.code)).toEqual([]);
  });
});

describe('Function: triageDeadlines', () => {
  it('should start the department clocks at the dispatch of an automatically dispatched case', () => {
    // Act
    const r = triageDeadlines(makeCase(), { slaPolicy: 'standard' });
    // Assess
    expect(r).toEqual(standardRecord());
  });

  it('should count only from receipt while the case waits for manual triage', () => {
    // Act
    const r = triageDeadlines(makeCase({ state: 'triage', dispatchedAt: undefined }), undefined);
    // Assess
    expect(r.dispatchedAt).toBeNull();
    expect(r.dispatchDue).toBe('2025-11-03T13:00:00.000+08:00');
  });

  it('should never put the dispatch before the receipt when the channel clock ran ahead', () => {
    // Act
    const r = triageDeadlines(
      makeCase({
        receivedAt: '2025-11-03T09:06:00.000+08:00',
        dispatchedAt: '2025-11-03T09:05:00.000+08:00',
        deadlines: undefined,
      }),
      { slaPolicy: 'standard' },
      defaultSlaEnv(),
    );
    // Assess
    expect(r.dispatchedAt).toBe('2025-11-03T09:06:00.000+08:00');
  });
});

describe('Function: caseDueKey', () => {
  it('should name the next running timer of the case', () => {
    // Act
    const key = caseDueKey(makeCase());
    // Assess: the sign warning (14:05 Shanghai = 06:05 UTC); the dispatch clock no longer runs.
    expect(key?.pk).toMatch(/^DUE#[0-7]$/);
    expect(key?.sk).toBe('2025-11-03T06:05:00.000Z#20251103000001#1');
  });

  it('should move on once a timer has fired and leave the index when no clock runs', () => {
    // Prepare
    const c = makeCase();
    const r = recordOf(c);
    const warned = { ...c, deadlines: recordFired(r, r.timeline[2]!) as unknown as Record<string, unknown> };
    // Act
    const next = caseDueKey(warned);
    const closed = caseDueKey({ ...c, state: 'closed' });
    // Assess
    expect(next?.sk).toBe('2025-11-03T07:05:00.000Z#20251103000001#1');
    expect(closed).toBeNull();
  });

  it('should keep the shard stable for a case', () => {
    // Act
    const a = caseDueKey(makeCase());
    const b = caseDueKey(makeCase({ state: 'signed' }), DUE_SHARDS);
    // Assess
    expect(a?.pk).toBe(b?.pk);
  });

  it('should put a provisional case at its receipt until its alarm is raised, once per calendar version', () => {
    // Prepare: received 2026-12-28, its 5 working days reach into 2027 which the calendar does not cover.
    const record = standardRecord('2026-12-28T09:00:00.000+08:00', '2026-12-28T09:05:00.000+08:00');
    const c = makeCase({
      caseId: '20261228000001',
      receivedAt: '2026-12-28T09:00:00.000+08:00',
      dispatchedAt: '2026-12-28T09:05:00.000+08:00',
      deadlines: record as unknown as Record<string, unknown>,
    });
    // Act
    const owed = provisionalAlarmOwed(c);
    const key = caseDueKey(c);
    const raised = { ...c, [PROVISIONAL_ALARM_FIELD]: record.calendarVersion };
    // Assess
    expect(record.provisional).toBe(true);
    expect(owed).toBe(true);
    expect(key?.sk).toBe('2026-12-28T01:00:00.000Z#20261228000001#1');
    expect(provisionalAlarmOwed(raised)).toBe(false);
    expect(caseDueKey(raised)?.sk).toBe('2026-12-28T06:05:00.000Z#20261228000001#1');
    expect(provisionalAlarmOwed({ ...c, state: 'closed' })).toBe(false);
  });
});
