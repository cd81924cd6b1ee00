/**
 * A department's workbench list on the real department index (GSI gsi3 on dynalite, loopback): the index sorts by
 * state name first, so one read of it would give a department with many 办结/归档 cases only those. The service reads
 * each state on its own: everything still being worked on, then the latest of the ended states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { Case } from '#core/case.ts';
import { ENDED_SHOWN, OPEN_RANGES } from '#core/cases/service.ts';
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
    const { cases: list, more } = await service.listDepartment(department, { limit: 100 });
    const oneRead = await store.listDepartmentCases(department, { limit: 100 });
    // Assess: one read of the index would have shown no open case at all
    expect(oneRead.cases.filter((c) => !ENDED_STATES.has(c.state))).toEqual([]);
    const open = list.filter((c) => !ENDED_STATES.has(c.state));
    expect(open.map((c) => c.state)).toEqual(['dispatched', 'dispatched', 'dispatched', 'signed', 'signed']);
    expect(list.slice(0, 5)).toEqual(open);
    // 5 open + the latest 50 closed + 40 archived + 20 answered + 1 rejected; only `closed` has more
    expect(list).toHaveLength(116);
    expect(Object.keys(more)).toEqual(['closed']);
    const closed = list.filter((c) => c.state === 'closed').map((c) => c.caseId);
    expect(closed).toHaveLength(ENDED_SHOWN);
    // the latest 50 of the 70 closed ones (same deadline: the larger case id sorts later), newest first
    expect(closed).toEqual(Array.from({ length: ENDED_SHOWN }, (_, i) => tn(70 - i)));
    for (const c of list) expect(states.get(c.caseId)).toBe(c.state);
  });

  it('should page on through one state with the cursor of `more`, and end without one', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    const first = await service.listDepartment(department, { limit: 100 });
    // Act
    const next = await service.listDepartment(department, { state: 'closed', limit: 15, after: first.more.closed });
    const last = await service.listDepartment(department, { state: 'closed', limit: 15, after: next.more.closed });
    // Assess: the 20 older closed cases, newest first, in two pages
    expect(next.cases.map((c) => c.caseId)).toEqual(Array.from({ length: 15 }, (_, i) => tn(20 - i)));
    expect(last.cases.map((c) => c.caseId)).toEqual(Array.from({ length: 5 }, (_, i) => tn(5 - i)));
    expect(last.more).toEqual({});
  });

  it('should not let a full state hide the states after it', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    // Act: 3 cases to sign, a page of 2 per state
    const { cases, more } = await service.listDepartment(department, { limit: 2 });
    const rest = await service.listDepartment(department, { state: 'dispatched', limit: 2, after: more.dispatched });
    // Assess
    expect(cases.filter((c) => c.state === 'dispatched')).toHaveLength(2);
    expect(cases.filter((c) => c.state === 'signed')).toHaveLength(2);
    expect(Object.keys(more).sort()).toEqual(['answered', 'archived', 'closed', 'dispatched']);
    expect(rest.cases.map((c) => c.state)).toEqual(['dispatched']);
    expect(rest.more).toEqual({});
  });

  it('should refuse a cursor of another state, a forged one and one without a state (400)', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    const { more } = await service.listDepartment(department, { limit: 100 });
    const forged = Buffer.from('closed#2025-01-01', 'utf8').toString('base64url');
    // Act
    const attempts = [
      service.listDepartment(department, { state: 'archived', after: more.closed }),
      service.listDepartment(department, { state: 'closed', after: forged }),
      service.listDepartment(department, { state: 'closed', after: '%%%' }),
      service.listDepartment(department, { after: more.closed }),
    ].map((p) =>
      p.then(
        () => 'ok',
        (e: { code?: string; status?: number }) => `${e.status} ${e.code}`,
      ),
    );
    // Assess
    expect(await Promise.all(attempts)).toEqual([
      '400 BAD_CURSOR',
      '400 BAD_CURSOR',
      '400 BAD_CURSOR',
      '400 CURSOR_NEEDS_STATE',
    ]);
  });

  it('should list an ended state newest first, as the workbench does, up to the limit', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    // Act
    const { cases: archived, more } = await service.listDepartment(department, { state: 'archived', limit: 30 });
    // Assess
    expect(archived.map((c) => c.caseId)).toEqual(Array.from({ length: 30 }, (_, i) => tn(110 - i)));
    expect(Object.keys(more)).toEqual(['archived']);
  });

  it('should give an overview of the work in progress in a read per run of open states (rejected left out)', async () => {
    // Prepare
    const { service } = harness({ cases: store });
    expect(OPEN_RANGES).toEqual([
      ['dispatched', 'received'],
      ['resolved', 'triage'],
    ]);
    const reads: unknown[] = [];
    const counting = harness({
      cases: Object.assign(Object.create(store), {
        listDepartmentCases: (d: string, o: Parameters<DynamoStore['listDepartmentCases']>[1]) => {
          reads.push(o?.statesFrom);
          return store.listDepartmentCases(d, o);
        },
      }),
    }).service;
    // Act
    const open = await counting.listDepartmentOpen(department, 100);
    const oneRead = reads.length;
    const cut = await service.listDepartmentOpen(department, 2);
    // Assess: all of it fits one read of the whole range; a full first run (3 to sign, 2 read) does not hide the
    // second (2 in hand)
    expect(oneRead).toBe(1);
    expect(open.cases.map((c) => c.state)).toEqual(['dispatched', 'dispatched', 'dispatched', 'signed', 'signed']);
    expect(open.truncated).toBe(false);
    expect(cut.cases.map((c) => c.state)).toEqual(['dispatched', 'dispatched', 'signed', 'signed']);
    expect(cut.truncated).toBe(true);
  });

  it('should still show the 人工分拨 cases of a department with hundreds of rejected ones', async () => {
    // Prepare: rejected sorts between received and resolved; 105 of them, then 3 waiting for manual triage
    const { service } = harness({ cases: store });
    for (let i = 0; i < 108; i++) {
      const c = { ...triagedCase(`20251129${String(i + 1).padStart(6, '0')}`), department: 'centre' };
      await store.createCase({ ...c, state: i < 105 ? 'rejected' : 'triage' });
    }
    // Act
    const open = await service.listDepartmentOpen('centre', 100);
    // Assess
    expect(open.cases.map((c) => c.state)).toEqual(['triage', 'triage', 'triage']);
    expect(open.truncated).toBe(false);
  }, 60_000);

  it('should show the cases waiting for approval behind more 待签收 than the limit', async () => {
    // Prepare: 230 cases to sign, then 2 closures to review (states that sort after them)
    const { service } = harness({ cases: store });
    for (let i = 0; i < 232; i++) {
      const c = { ...triagedCase(`20251130${String(i + 1).padStart(6, '0')}`), department: 'zhujian' };
      await store.createCase({ ...c, state: i < 230 ? 'dispatched' : 'resolved' });
    }
    // Act
    const open = await service.listDepartmentOpen('zhujian', 100);
    // Assess: the 100 most urgent to sign, and both closures
    const states = open.cases.map((c) => c.state);
    expect(states.filter((s) => s === 'dispatched')).toHaveLength(100);
    expect(states.filter((s) => s === 'resolved')).toHaveLength(2);
    expect(open.truncated).toBe(true);
  }, 60_000);
});
