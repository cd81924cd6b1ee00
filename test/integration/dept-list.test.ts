/**
 * A department's workbench list on the real department index (GSI gsi3 on dynalite, loopback): the index sorts by
 * state name first, so one read of it would give a department with many 办结/归档 cases only those. The service reads
 * each state on its own: everything still being worked on, then the latest of the ended states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { Case } from '#core/case.ts';
import { ENDED_SHOWN, OPEN_RANGE } from '#core/cases/service.ts';
import { ENDED_STATES } from '#core/lifecycle/states.ts';
import { type LocalAws, provisionLocalAws } from '#local/provision.ts';
import { harness, triagedCase } from '../unit/cases/fakes.ts';

const tn = (n: number) => `20251128${String(n).padStart(6, '0')}`;

describe('Integration: a department workbench on the department index (dynalite)', () => {
  let aws: LocalAws;
  let store: DynamoStore;
  let department: string;
  const states = new Map<string, Case['state']>();

  beforeAll(async () => {
    aws = await provisionLocalAws();
    store = new DynamoStore(aws.db, aws.tableName);
    // 131 ended cases (closed, archived, answered, one rejected), then 3 waiting to be signed and 2 in hand.
    const plan: Case['state'][] = [
      ...Array.from({ length: 70 }, () => 'closed' as const),
      ...Array.from({ length: 40 }, () => 'archived' as const),
      ...Array.from({ length: 20 }, () => 'answered' as const),
      'rejected',
      'dispatched',
      'dispatched',
      'dispatched',
      'signed',
      'signed',
    ];
    for (const [i, state] of plan.entries()) {
      const c = { ...triagedCase(tn(i + 1)), state };
      department = c.department!;
      states.set(c.caseId, state);
      await store.createCase(c);
    }
  }, 60_000);
  afterAll(async () => {
    await aws?.stop();
  });

  it('should list every case still being worked on first, then the latest of each ended state', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment(department, { limit: 100 });
    const oneRead = await store.listDepartmentCases(department, { limit: 100 });
    // Assess: one read of the index would have shown no open case at all
    expect(oneRead.filter((c) => !ENDED_STATES.has(c.state))).toEqual([]);
    const open = list.filter((c) => !ENDED_STATES.has(c.state));
    expect(open.map((c) => c.state)).toEqual(['dispatched', 'dispatched', 'dispatched', 'signed', 'signed']);
    expect(list.slice(0, 5)).toEqual(open);
    expect(list).toHaveLength(100);
    const closed = list.filter((c) => c.state === 'closed').map((c) => c.caseId);
    expect(closed).toHaveLength(ENDED_SHOWN);
    // the latest 50 of the 70 closed ones (same deadline: the larger case id sorts later), newest first
    expect(closed).toEqual(Array.from({ length: ENDED_SHOWN }, (_, i) => tn(70 - i)));
    for (const c of list) expect(states.get(c.caseId)).toBe(c.state);
  });

  it('should still list one state in deadline order up to the limit', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    // Act
    const archived = await service.listDepartment(department, { state: 'archived', limit: 30 });
    // Assess
    expect(archived.map((c) => c.caseId)).toEqual(Array.from({ length: 30 }, (_, i) => tn(71 + i)));
  });

  it('should give an overview of the work in progress in one read (rejected, inside the range of names, left out)', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    expect(OPEN_RANGE).toEqual(['dispatched', 'triage']);
    // Act
    const open = await service.listDepartmentOpen(department, 100);
    // Assess
    expect(open.map((c) => c.state)).toEqual(['dispatched', 'dispatched', 'dispatched', 'signed', 'signed']);
  });
});
