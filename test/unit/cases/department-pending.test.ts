/**
 * A department's cases in every state (`CaseService.listDepartment` without `state`, behind the supervisors'
 * `GET /api/supervisor/cases?department=X` and the department's workbench) and the requests waiting for a supervisor:
 * when a page of a state still being worked on is cut, a 延期申请 on a case beyond the cut is still in the answer, once,
 * after the cases read of its state; the pending index is read only then.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import type { CasePage, CaseStore } from '#core/ports.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { resetRuntime, setRuntime } from '#functions/lib/runtime.ts';
import {
  chengguanCaseIn,
  EXTENSION_REQUEST,
  FixedClock,
  harness,
  MemoryBus,
  MemoryCases,
  MemoryOutbox,
  trackingNoOf,
} from './fakes.ts';

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
    for (let i = 1; i <= 5; i++)
      await memory.createCase(chengguanCaseIn(i, 'signed', i, i === 5 ? EXTENSION_REQUEST : null));
    await memory.createCase(chengguanCaseIn(6, 'dispatched', 1));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([trackingNoOf(6), trackingNoOf(1), trackingNoOf(2), trackingNoOf(5)]);
    expect(list.cases.at(-1)?.pending).toEqual(EXTENSION_REQUEST);
    expect(Object.keys(list.more)).toEqual(['signed']);
    expect(pendingReads()).toBe(1);
  });

  it('should not read the pending index when no page of a state being worked on was cut', async () => {
    // Prepare: everything fits; more closed cases than one page of an ended state
    const { store, memory, pendingReads } = countingStore();
    await memory.createCase(chengguanCaseIn(1, 'signed', 1, EXTENSION_REQUEST));
    await memory.createCase(chengguanCaseIn(2, 'signed', 2));
    for (let i = 3; i <= 5; i++) await memory.createCase(chengguanCaseIn(i, 'closed', i));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([trackingNoOf(1), trackingNoOf(2), trackingNoOf(5), trackingNoOf(4)]);
    expect(Object.keys(list.more)).toEqual(['closed']);
    expect(pendingReads()).toBe(0);
  });

  it('should list a waiting case read in its state’s page once, and keep the pending ones in deadline order', async () => {
    // Prepare: a page of 3; requests on the first case (inside the page) and on two beyond it, the later-due one
    // asked first; the pending index's page (the oldest requests first) holds all three
    const { store, memory } = countingStore();
    await memory.createCase(
      chengguanCaseIn(1, 'signed', 1, { ...EXTENSION_REQUEST, requestedAt: '2025-11-29T11:00:00.000+08:00' }),
    );
    for (let i = 2; i <= 4; i++) await memory.createCase(chengguanCaseIn(i, 'signed', i));
    await memory.createCase(
      chengguanCaseIn(5, 'signed', 9, { ...EXTENSION_REQUEST, requestedAt: '2025-11-29T08:00:00.000+08:00' }),
    );
    await memory.createCase(chengguanCaseIn(6, 'signed', 7, EXTENSION_REQUEST));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 3 });
    // Assess
    expect(ids(list.cases)).toEqual([
      trackingNoOf(1),
      trackingNoOf(2),
      trackingNoOf(3),
      trackingNoOf(6),
      trackingNoOf(5),
    ]);
  });

  it('should drop what a stale pending index still lists (decided, ended, moved to another department)', async () => {
    // Prepare: the index lags behind three cases
    const stale = [
      chengguanCaseIn(7, 'signed', 9, null),
      chengguanCaseIn(8, 'closed', 9, EXTENSION_REQUEST),
      { ...chengguanCaseIn(9, 'signed', 9, EXTENSION_REQUEST), department: 'zhujian' },
    ];
    const { store, memory } = countingStore({ pendingRead: async () => ({ cases: stale }) });
    for (let i = 1; i <= 3; i++) await memory.createCase(chengguanCaseIn(i, 'signed', i));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([trackingNoOf(1), trackingNoOf(2)]);
  });

  it('should answer as before on a store without the pending index', async () => {
    // Prepare
    const { store, memory } = countingStore({ withoutIndex: true });
    for (let i = 1; i <= 3; i++)
      await memory.createCase(chengguanCaseIn(i, 'signed', i, i === 3 ? EXTENSION_REQUEST : null));
    const { service } = harness({ cases: store });
    // Act
    const list = await service.listDepartment('chengguan', { limit: 2 });
    // Assess
    expect(ids(list.cases)).toEqual([trackingNoOf(1), trackingNoOf(2)]);
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
    for (let i = 1; i <= 4; i++)
      await store.createCase(chengguanCaseIn(i, 'signed', i, i === 4 ? EXTENSION_REQUEST : null));
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
    expect(body.cases.map((c) => c.caseId)).toEqual([trackingNoOf(1), trackingNoOf(2), trackingNoOf(4)]);
    expect(body.truncated).toBe(true);
  });
});
