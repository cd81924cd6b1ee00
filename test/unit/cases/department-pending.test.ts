/**
 * A department's cases in every state (`CaseService.listDepartment` without `state`, behind the supervisors'
 * `GET /api/supervisor/cases?department=X` and the department's workbench) and the requests waiting for a supervisor:
 * when a page of a state still being worked on is cut, a 延期申请 on a case beyond the cut is still in the answer, once,
 * after the cases read of its state; the pending index is read only then.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import type { PendingRequest } from '#core/lifecycle/types.ts';
import type { CasePage, CaseStore } from '#core/ports.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { resetRuntime, setRuntime } from '#functions/lib/runtime.ts';
import { FixedClock, harness, MemoryBus, MemoryCases, MemoryOutbox, triagedCase } from './fakes.ts';

const extension: PendingRequest = {
  kind: 'extension',
  reason: '等待物资',
  requestedAt: '2025-11-29T10:00:00.000+08:00',
  requestedBy: { role: 'department', id: 'cg-clerk' },
  newDueAt: '2025-12-30T18:00:00.000+08:00',
};

const tn = (n: number) => `20251128${String(n).padStart(6, '0')}`;

/** A chengguan case in `state`, due on day `day` of December (a later day sorts later in its state). */
function caseIn(n: number, state: Case['state'], day: number, pending: PendingRequest | null = null): Case {
  const c = triagedCase(tn(n));
  return {
    ...c,
    state,
    deadlines: { resolveDue: `2025-12-${String(day).padStart(2, '0')}T18:00:00.000+08:00` },
    pending,
    announcedVersion: c.version,
  };
}

/** The in-memory store with its pending-index reads counted; `pendingRead` replaces that read (a stale index). */
function countingStore(opts: { withoutIndex?: boolean; pendingRead?: () => Promise<CasePage> } = {}) {
  const memory = new MemoryCases();
  let reads = 0;
  const store = {
    listDepartmentCases: (d: string, o?: Parameters<MemoryCases['listDepartmentCases']>[1]) =>
      memory.listDepartmentCases(d, o),
    ...(opts.withoutIndex
      ? { listPendingRequests: undefined }
      : {
          listPendingRequests: (d: string, limit?: number, after?: string) => {
            reads++;
            return opts.pendingRead ? opts.pendingRead() : memory.listPendingRequests(d, limit, after);
          },
        }),
  } as unknown as CaseStore;
  // Every other method of the port, as the in-memory store has it.
  Object.setPrototypeOf(store, memory);
  return { store, memory, pendingReads: () => reads };
}

const ids = (cases: Case[]) => cases.map((c) => c.caseId);

describe('Class: CaseService (listDepartment and the requests waiting for a supervisor)', () => {
  it('should show a 延期申请 on a case beyond the cut of its state, once, after the cases read of that state', async () => {
    // Prepare: 5 cases in hand, the one due last asks for more time; 1 new case; a page of 2 per state
    const { store, memory, pendingReads } = countingStore();
    for (let i = 1; i <= 5; i++) await memory.createCase(caseIn(i, 'signed', i, i === 5 ? extension : null));
    await memory.createCase(caseIn(6, 'dispatched', 1));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([tn(6), tn(1), tn(2), tn(5)]);
    expect(list.cases.at(-1)?.pending).toEqual(extension);
    expect(Object.keys(list.more)).toEqual(['signed']);
    expect(pendingReads()).toBe(1);
  });

  it('should not read the pending index when no page of a state being worked on was cut', async () => {
    // Prepare: everything fits; more closed cases than one page of an ended state
    const { store, memory, pendingReads } = countingStore();
    await memory.createCase(caseIn(1, 'signed', 1, extension));
    await memory.createCase(caseIn(2, 'signed', 2));
    for (let i = 3; i <= 5; i++) await memory.createCase(caseIn(i, 'closed', i));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([tn(1), tn(2), tn(5), tn(4)]);
    expect(Object.keys(list.more)).toEqual(['closed']);
    expect(pendingReads()).toBe(0);
  });

  it('should list a waiting case read in its state’s page once, and keep the pending ones in deadline order', async () => {
    // Prepare: a page of 3; requests on the first case (inside the page) and on two beyond it, the later-due one
    // asked first; the pending index's page (the oldest requests first) holds all three
    const { store, memory } = countingStore();
    await memory.createCase(caseIn(1, 'signed', 1, { ...extension, requestedAt: '2025-11-29T11:00:00.000+08:00' }));
    for (let i = 2; i <= 4; i++) await memory.createCase(caseIn(i, 'signed', i));
    await memory.createCase(caseIn(5, 'signed', 9, { ...extension, requestedAt: '2025-11-29T08:00:00.000+08:00' }));
    await memory.createCase(caseIn(6, 'signed', 7, extension));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 3 });
    // Assess
    expect(ids(list.cases)).toEqual([tn(1), tn(2), tn(3), tn(6), tn(5)]);
  });

  it('should drop what a stale pending index still lists (decided, ended, moved to another department)', async () => {
    // Prepare: the index lags behind three cases
    const stale = [
      caseIn(7, 'signed', 9, null),
      caseIn(8, 'closed', 9, extension),
      { ...caseIn(9, 'signed', 9, extension), department: 'zhujian' },
    ];
    const { store, memory } = countingStore({ pendingRead: async () => ({ cases: stale }) });
    for (let i = 1; i <= 3; i++) await memory.createCase(caseIn(i, 'signed', i));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([tn(1), tn(2)]);
  });

  it('should answer as before on a store without the pending index', async () => {
    // Prepare
    const { store, memory } = countingStore({ withoutIndex: true });
    for (let i = 1; i <= 3; i++) await memory.createCase(caseIn(i, 'signed', i, i === 3 ? extension : null));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([tn(1), tn(2)]);
    expect(Object.keys(list.more)).toEqual(['signed']);
  });
});

describe('Handler: GET /api/supervisor/cases?department=X (in-memory ports)', () => {
  type H = (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }>;
  let sup: H;
  let store: MemoryCases;
  beforeAll(async () => {
    process.env.TABLE_NAME = 't';
    process.env.BLOB_BUCKET = 'b';
    setLogSink(() => undefined);
    ({ handler: sup } = (await import('#functions/supervisor/api.ts')) as never);
  });
  afterAll(() => resetRuntime());
  beforeEach(() => {
    store = new MemoryCases();
    resetRuntime();
    setRuntime({
      store: store as never,
      bus: new MemoryBus() as never,
      outbox: new MemoryOutbox(),
      clock: new FixedClock(),
    });
  });

  it('should show a department’s 延期申请 behind more cases in hand than the limit, and say the list is cut', async () => {
    // Prepare
    for (let i = 1; i <= 4; i++) await store.createCase(caseIn(i, 'signed', i, i === 4 ? extension : null));
    // Act
    const res = await sup(
      {
        version: '2.0',
        routeKey: 'GET /api/supervisor/cases',
        rawPath: '/api/supervisor/cases',
        headers: {},
        queryStringParameters: { department: 'chengguan', limit: '2' },
        isBase64Encoded: false,
        requestContext: {
          http: { method: 'GET', path: '/api/supervisor/cases' },
          authorizer: {
            jwt: {
              claims: { sub: 'sup', 'cognito:username': 'sup-001', 'cognito:groups': '[supervisors]' },
              scopes: [],
            },
          },
        },
      },
      {},
    );
    // Assess
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body) as { cases: { caseId: string }[]; truncated: boolean };
    expect(body.cases.map((c) => c.caseId)).toEqual([tn(1), tn(2), tn(4)]);
    expect(body.truncated).toBe(true);
  });
});
