/**
 * The supervisors' overview of a department (`CaseService.listDepartmentOpen`) and the requests waiting for them:
 * a 延期申请 or 退单申请 behind more cases than one read returns is still in the answer, once, in the department
 * index's order; when the whole range fits one read, the pending index is not read at all.
 */
import { describe, expect, it } from 'vitest';
import type { CaseStore } from '#core/ports.ts';
import { chengguanCaseIn, EXTENSION_REQUEST, harness, MemoryCases, RETURN_REQUEST, trackingNoOf } from './fakes.ts';

/** The in-memory store, counting the pending-index reads; `withoutIndex` leaves the method out (older stores). */
function countingStore(withoutIndex = false): { store: CaseStore; memory: MemoryCases; pendingReads: () => number } {
  const memory = new MemoryCases();
  let reads = 0;
  const store: CaseStore = {
    createCase: (c) => memory.createCase(c),
    getCase: (id) => memory.getCase(id),
    replaceCase: (c, v) => memory.replaceCase(c, v),
    markAnnounced: (id, v) => memory.markAnnounced(id, v),
    listDepartmentCases: (d, o) => memory.listDepartmentCases(d, o),
    ...(withoutIndex
      ? { listPendingRequests: undefined }
      : {
          listPendingRequests: (d: string, limit?: number, after?: string) => {
            reads++;
            return memory.listPendingRequests(d, limit, after);
          },
        }),
  } as CaseStore;
  // Whatever else the port asks of a store (other engineers' methods), the in-memory one has.
  Object.setPrototypeOf(store, memory);
  return { store, memory, pendingReads: () => reads };
}

describe('Class: CaseService (supervisors’ overview and pending requests)', () => {
  it('should show a 延期申请 on a case in hand that sorts after more cases than the limit, once', async () => {
    // Prepare: 5 cases in hand, the one due last asks for more time; a page of 2
    const { store, memory, pendingReads } = countingStore();
    for (let i = 1; i <= 5; i++)
      await memory.createCase(chengguanCaseIn(i, 'signed', i, i === 5 ? EXTENSION_REQUEST : null));
    const { service } = harness({ cases: store });
    // Act
    const open = await service.listDepartmentOpen('chengguan', 2);
    // Assess: the 2 most urgent, then the one waiting for a supervisor, in the index's order
    expect(open.cases.map((c) => c.caseId)).toEqual([trackingNoOf(1), trackingNoOf(2), trackingNoOf(5)]);
    expect(open.cases[2]?.pending).toEqual(EXTENSION_REQUEST);
    expect(open.truncated).toBe(true);
    expect(pendingReads()).toBe(1);
  });

  it('should miss that request on a store without the pending index (the gap the index closes)', async () => {
    // Prepare
    const { store, memory } = countingStore(true);
    for (let i = 1; i <= 5; i++)
      await memory.createCase(chengguanCaseIn(i, 'signed', i, i === 5 ? EXTENSION_REQUEST : null));
    const { service } = harness({ cases: store });
    // Act
    const open = await service.listDepartmentOpen('chengguan', 2);
    // Assess
    expect(open.cases.map((c) => c.caseId)).toEqual([trackingNoOf(1), trackingNoOf(2)]);
    expect(open.truncated).toBe(true);
  });

  it('should show a 退单申请 whose state run was cut by the closures before it', async () => {
    // Prepare: 3 closures to review (resolved sorts before returnRequested in the same run), then a return
    const { store, memory } = countingStore();
    for (let i = 1; i <= 3; i++) await memory.createCase(chengguanCaseIn(i, 'resolved', i));
    await memory.createCase(chengguanCaseIn(4, 'returnRequested', 1, RETURN_REQUEST));
    const { service } = harness({ cases: store });
    // Act
    const open = await service.listDepartmentOpen('chengguan', 2);
    // Assess
    expect(open.cases.map((c) => [c.caseId, c.state])).toEqual([
      [trackingNoOf(1), 'resolved'],
      [trackingNoOf(2), 'resolved'],
      [trackingNoOf(4), 'returnRequested'],
    ]);
    expect(open.truncated).toBe(true);
  });

  it('should not list a request twice when its case is in the page already', async () => {
    // Prepare: the most urgent case is the one asking for more time
    const { store, memory, pendingReads } = countingStore();
    for (let i = 1; i <= 5; i++)
      await memory.createCase(chengguanCaseIn(i, 'signed', i, i === 1 ? EXTENSION_REQUEST : null));
    const { service } = harness({ cases: store });
    // Act
    const open = await service.listDepartmentOpen('chengguan', 2);
    // Assess
    expect(open.cases.map((c) => c.caseId)).toEqual([trackingNoOf(1), trackingNoOf(2)]);
    expect(pendingReads()).toBe(1);
  });

  it('should not read the pending index when the whole range fits one read', async () => {
    // Prepare
    const { store, memory, pendingReads } = countingStore();
    for (let i = 1; i <= 3; i++)
      await memory.createCase(chengguanCaseIn(i, 'signed', i, i === 3 ? EXTENSION_REQUEST : null));
    const { service } = harness({ cases: store });
    // Act
    const open = await service.listDepartmentOpen('chengguan', 100);
    // Assess
    expect(open.cases.map((c) => c.caseId)).toEqual([trackingNoOf(1), trackingNoOf(2), trackingNoOf(3)]);
    expect(open.truncated).toBe(false);
    expect(pendingReads()).toBe(0);
  });

  it('should drop index entries that moved on (request decided, case ended or moved to another department)', async () => {
    // Prepare: a lagging index still gives three cases that no longer wait for a supervisor
    const memory = new MemoryCases();
    for (let i = 1; i <= 5; i++) await memory.createCase(chengguanCaseIn(i, 'signed', i));
    const stale = [
      chengguanCaseIn(6, 'signed', 6, null),
      chengguanCaseIn(7, 'closed', 7, EXTENSION_REQUEST),
      { ...chengguanCaseIn(8, 'signed', 8, EXTENSION_REQUEST), department: 'zhujian' },
    ];
    const store = Object.assign(Object.create(memory) as MemoryCases, {
      listPendingRequests: async () => ({ cases: stale }),
    });
    const { service } = harness({ cases: store });
    // Act
    const open = await service.listDepartmentOpen('chengguan', 2);
    // Assess
    expect(open.cases.map((c) => c.caseId)).toEqual([trackingNoOf(1), trackingNoOf(2)]);
  });

  it('should say the overview is cut when more requests wait than were read', async () => {
    // Prepare: 4 requests in hand behind nothing else, a page of 2 (the main read is cut by them too)
    const { store, memory } = countingStore();
    for (let i = 1; i <= 4; i++) {
      await memory.createCase(
        chengguanCaseIn(i, 'signed', i, { ...EXTENSION_REQUEST, requestedAt: `2025-11-29T1${i}:00:00.000+08:00` }),
      );
    }
    const { service } = harness({ cases: store });
    // Act
    const open = await service.listDepartmentOpen('chengguan', 2);
    // Assess
    expect(open.cases.map((c) => c.caseId)).toEqual([trackingNoOf(1), trackingNoOf(2)]);
    expect(open.truncated).toBe(true);
  });
});
