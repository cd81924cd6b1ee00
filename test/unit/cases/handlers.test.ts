import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { citizenToken } from '#core/cases/citizen-auth.ts';
import type { StoredReport } from '#core/ports.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { resetRuntime, setRuntime } from '#functions/lib/runtime.ts';
import { FixedClock, MemoryBus, MemoryCases, MemoryOutbox, PHONE, report, triagedCase } from './fakes.ts';

class MemoryStore extends MemoryCases {
  reports = new Map<string, StoredReport>();
  async getReportByTrackingNo(tn: string) {
    return this.reports.get(tn);
  }
}

const TN = '20251128000001';
const OTHER = '20251128000002';
const SECRET = 'unit-test-secret';

type Who = 'anonymous' | 'agent' | 'chengguan' | 'zhujian' | 'supervisor';
const CLAIMS: Record<Exclude<Who, 'anonymous'>, Record<string, string>> = {
  agent: { sub: 'agent-001', 'cognito:username': 'agent-001', 'cognito:groups': '[agents]' },
  chengguan: { sub: 'cg', 'cognito:username': 'cg-clerk', 'cognito:groups': '[dept-chengguan]' },
  zhujian: { sub: 'zj', 'cognito:username': 'zj-clerk', 'cognito:groups': '[dept-zhujian]' },
  supervisor: { sub: 'sup', 'cognito:username': 'sup-001', 'cognito:groups': '[supervisors]' },
};

function event(
  routeKey: string,
  opts: {
    who?: Who;
    params?: Record<string, string>;
    body?: unknown;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
) {
  const [method, template] = routeKey.split(' ') as [string, string];
  let path = template;
  for (const [k, v] of Object.entries(opts.params ?? {})) path = path.replace(`{${k}}`, v);
  const who = opts.who ?? 'anonymous';
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(opts.params ? { pathParameters: opts.params } : {}),
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    isBase64Encoded: false,
    requestContext: {
      http: { method, path },
      ...(who === 'anonymous' ? {} : { authorizer: { jwt: { claims: CLAIMS[who], scopes: [] } } }),
    },
  };
}

type H = (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }>;
const call = async (h: H, e: unknown) => {
  const r = await h(e, {});
  return { status: r.statusCode, json: JSON.parse(r.body) };
};

describe('Handlers: department, supervisor and citizen endpoints (in-memory ports)', () => {
  let dept: H;
  let sup: H;
  let web: H;
  let store: MemoryStore;
  let bus: MemoryBus;
  let outbox: MemoryOutbox;

  beforeAll(async () => {
    process.env.TABLE_NAME = 't';
    process.env.BLOB_BUCKET = 'b';
    process.env.CITIZEN_TOKEN_SECRET = SECRET;
    process.env.CITYLOOP_PUBLIC_URL = 'https://12345.example.gov.cn';
    setLogSink(() => undefined);
    ({ handler: dept } = (await import('#functions/dept/api.ts')) as never);
    ({ handler: sup } = (await import('#functions/supervisor/api.ts')) as never);
    ({ handler: web } = (await import('#functions/http/requests.ts')) as never);
  });
  afterAll(() => resetRuntime());
  beforeEach(async () => {
    store = new MemoryStore();
    bus = new MemoryBus();
    outbox = new MemoryOutbox();
    resetRuntime();
    setRuntime({ store: store as never, bus: bus as never, outbox, clock: new FixedClock() });
    for (const [tn, text] of [
      [TN, '和平路88号路灯不亮'],
      [OTHER, '有人占道摆摊说不清楚'],
    ] as const) {
      await store.createCase({ ...triagedCase(tn, text), announcedVersion: 1 });
      store.reports.set(tn, report(tn, text));
    }
  });

  it('should list and show a department its own cases, and nothing of the others', async () => {
    // Act
    const mine = await call(dept, event('GET /api/dept/cases', { who: 'chengguan' }));
    const theirs = await call(dept, event('GET /api/dept/cases', { who: 'zhujian' }));
    const shown = await call(dept, event('GET /api/dept/cases/{caseId}', { who: 'chengguan', params: { caseId: TN } }));
    const foreign = await call(dept, event('GET /api/dept/cases/{caseId}', { who: 'zhujian', params: { caseId: TN } }));
    const missing = await call(
      dept,
      event('GET /api/dept/cases/{caseId}', { who: 'zhujian', params: { caseId: '20251128999999' } }),
    );
    // Assess
    expect(mine.json.cases.map((c: { caseId: string }) => c.caseId)).toEqual([TN]);
    expect(theirs.json.cases).toEqual([]);
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({
      caseId: TN,
      citizen: { phone: PHONE },
      allowedActions: expect.arrayContaining(['sign']),
    });
    expect(foreign).toEqual(missing);
    expect(foreign.status).toBe(404);
  });

  it('should say which states have more cases, and refuse a cursor without a state (400)', async () => {
    // Prepare: a second case to sign
    await store.createCase({ ...triagedCase('20251128000009', '和平路90号路灯也不亮'), announcedVersion: 1 });
    // Act
    const first = await call(dept, event('GET /api/dept/cases', { who: 'chengguan', query: { limit: '1' } }));
    const stray = await call(dept, event('GET /api/dept/cases', { who: 'chengguan', query: { cursor: 'abc' } }));
    const triage = await call(sup, event('GET /api/supervisor/triage', { who: 'supervisor' }));
    const mixed = await call(sup, event('GET /api/supervisor/cases', { who: 'supervisor', query: { cursor: 'abc' } }));
    const all = await call(sup, event('GET /api/supervisor/cases', { who: 'supervisor' }));
    const one = await call(sup, event('GET /api/supervisor/cases', { who: 'supervisor', query: { limit: '1' } }));
    // Assess
    expect(first.status).toBe(200);
    expect(Object.keys(first.json.more)).toEqual(['dispatched']);
    expect(stray.status).toBe(400);
    expect(stray.json.error.code).toBe('CURSOR_NEEDS_STATE');
    expect(triage.json.more).toEqual({});
    expect(mixed.status).toBe(400);
    expect(mixed.json.error.code).toBe('CURSOR_NEEDS_STATE');
    expect(all.json.truncated).toBe(false);
    // up to `limit` of each state: one of the two to sign, and every other state's first
    const states = (r: typeof all) => r.json.cases.map((c: { state: string }) => c.state);
    expect(states(all).filter((s: string) => s === 'dispatched')).toHaveLength(2);
    expect(states(one).filter((s: string) => s === 'dispatched')).toHaveLength(1);
    expect(new Set(states(one)).size).toBe(states(one).length);
    expect(new Set(states(one))).toEqual(new Set(states(all)));
    expect(one.json.truncated).toBe(true);
  });

  it('should keep a case with an extension request in the overview whatever its rank in its state', async () => {
    // Prepare: two cases in hand in two departments; the later deadline one asks for more time
    const inHand = (tn: string, department: string, due: string, pending: unknown) =>
      store.createCase({
        ...triagedCase(tn, '路灯不亮'),
        department,
        state: 'signed',
        deadlines: { ...triagedCase(tn).deadlines, resolveDue: due },
        pending,
        announcedVersion: 1,
      } as never);
    await inHand('20251128000011', 'chengguan', '2025-12-01T18:00:00+08:00', null);
    await inHand('20251128000012', 'zhujian', '2025-12-20T18:00:00+08:00', {
      kind: 'extension',
      reason: '等待物资',
      newDueAt: '2025-12-30T18:00:00+08:00',
      requestedAt: '2025-11-29T10:00:00+08:00',
      requestedBy: { role: 'department', id: 'zj' },
    });
    // Act
    const res = await call(sup, event('GET /api/supervisor/cases', { who: 'supervisor', query: { limit: '1' } }));
    // Assess
    const signed = res.json.cases.filter((c: { state: string }) => c.state === 'signed');
    expect(signed.map((c: { caseId: string }) => c.caseId)).toEqual(['20251128000011', '20251128000012']);
    expect(signed[1].pending).toBe('extension');
  });

  it('should sign, then refuse a stale version with 409 CONFLICT', async () => {
    // Act
    const signed = await call(
      dept,
      event('POST /api/dept/cases/{caseId}/sign', {
        who: 'chengguan',
        params: { caseId: TN },
        body: { text: '已接单', expectedVersion: 1 },
      }),
    );
    const stale = await call(
      dept,
      event('POST /api/dept/cases/{caseId}/contact', {
        who: 'chengguan',
        params: { caseId: TN },
        body: { expectedVersion: 1 },
      }),
    );
    // Assess
    expect(signed.status).toBe(200);
    expect(signed.json).toMatchObject({
      case: { state: 'signed', version: 2 },
      transition: { action: 'sign' },
      announced: true,
    });
    expect(stale).toMatchObject({ status: 409, json: { error: { code: 'CONFLICT', details: { version: 2 } } } });
    expect(bus.types()).toEqual(['Case.Signed']);
  });

  it('should answer 401 without a credential, 403 with another role, and 400 for a malformed body', async () => {
    const e = (who: Who, body?: unknown) =>
      event('POST /api/dept/cases/{caseId}/return', { who, params: { caseId: TN }, body });
    expect((await call(dept, e('anonymous'))).json.error.code).toBe('UNAUTHENTICATED');
    expect((await call(dept, e('supervisor'))).status).toBe(403);
    expect((await call(dept, e('agent'))).status).toBe(403);
    const bad = await call(dept, e('chengguan', { reason: 42 }));
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'INVALID_ACTION' } } });
    const version = await call(dept, e('chengguan', { reason: 'x', expectedVersion: 'abc' }));
    expect(version.json.error.code).toBe('INVALID_VERSION');
    // The body cannot pick another action than the route's.
    const sneaky = await call(dept, e('chengguan', { type: 'resolve', text: 'done', reason: '非本单位' }));
    expect(sneaky.json.transition.action).toBe('requestReturn');
  });

  it('should let a supervisor work the triage queue and record a follow-up from form-like booleans', async () => {
    // Act
    const queue = await call(sup, event('GET /api/supervisor/triage', { who: 'supervisor' }));
    const assigned = await call(
      sup,
      event('POST /api/supervisor/cases/{caseId}/triage', {
        who: 'supervisor',
        params: { caseId: OTHER },
        body: { department: 'chengguan', category: 'CG-02' },
      }),
    );
    const all = await call(
      sup,
      event('GET /api/supervisor/cases', { who: 'supervisor', query: { state: 'dispatched' } }),
    );
    const badDept = await call(
      sup,
      event('GET /api/supervisor/cases', { who: 'supervisor', query: { department: 'nowhere' } }),
    );
    // Assess
    expect(queue.json.cases.map((c: { caseId: string }) => c.caseId)).toEqual([OTHER]);
    expect(assigned.json.case).toMatchObject({
      state: 'dispatched',
      department: 'chengguan',
      categoryName: '占道经营',
    });
    expect(assigned.json.notice).toEqual({ channel: 'sms', kind: 'case-dispatched' });
    expect(all.json.cases.map((c: { caseId: string }) => c.caseId).sort()).toEqual([TN, OTHER]);
    expect(badDept.status).toBe(400);
    expect((await call(sup, event('GET /api/supervisor/triage', { who: 'chengguan' }))).status).toBe(403);

    // Prepare the follow-up
    await call(dept, event('POST /api/dept/cases/{caseId}/sign', { who: 'chengguan', params: { caseId: TN } }));
    await call(
      dept,
      event('POST /api/dept/cases/{caseId}/resolve', {
        who: 'chengguan',
        params: { caseId: TN },
        body: { text: '已修复' },
      }),
    );
    await call(
      sup,
      event('POST /api/supervisor/cases/{caseId}/closure/approve', { who: 'supervisor', params: { caseId: TN } }),
    );
    const follow = await call(
      sup,
      event('POST /api/supervisor/cases/{caseId}/follow-up', {
        who: 'supervisor',
        params: { caseId: TN },
        body: { satisfaction: '基本满意', resolved: 'true' },
      }),
    );
    expect(follow.json.case).toMatchObject({ state: 'closed', satisfaction: '基本满意', resolvedFlag: true });
  });

  it('should list cases still being worked on before ended ones, the latest ended first', async () => {
    const TN_DEPARTMENT = (await store.getCase(TN))!.department!;
    // Prepare: TN is dispatched; two ended cases of the same department, one due later than the other
    const ended = async (tn: string, state: 'closed' | 'archived', dueAt: string) => {
      const c = { ...triagedCase(tn, '和平路90号路灯不亮'), state, announcedVersion: 1 };
      await store.createCase({ ...c, windows: { returnBy: null, extensionLatest: null, ...c.windows, dueAt } });
    };
    await ended('20251128000003', 'archived', '2025-11-20T10:00:00.000+08:00');
    await ended('20251128000004', 'archived', '2025-11-25T10:00:00.000+08:00');
    await ended('20251128000005', 'closed', '2025-11-21T10:00:00.000+08:00');
    // Act
    const all = await call(sup, event('GET /api/supervisor/cases', { who: 'supervisor' }));
    const dept = TN_DEPARTMENT;
    const one = await call(sup, event('GET /api/supervisor/cases', { who: 'supervisor', query: { department: dept } }));
    // Assess: across departments, the work in progress; in one department, then its latest ended cases
    const ids = (r: { json: { cases: { caseId: string }[] } }) => r.json.cases.map((c) => c.caseId);
    expect(ids(all)).toContain(TN);
    expect(ids(all).filter((id: string) => id >= '20251128000003')).toEqual([]);
    expect(ids(one).indexOf(TN)).toBeLessThan(ids(one).indexOf('20251128000003'));
    expect(ids(one).slice(-3)).toEqual(['20251128000004', '20251128000003', '20251128000005']);
  });

  it('should show the tracking page with texts only to a citizen with a proof', async () => {
    // Prepare
    await call(dept, event('POST /api/dept/cases/{caseId}/sign', { who: 'chengguan', params: { caseId: TN } }));
    await call(
      dept,
      event('POST /api/dept/cases/{caseId}/resolve', {
        who: 'chengguan',
        params: { caseId: TN },
        body: { text: '已修复路灯' },
      }),
    );
    const get = (query?: Record<string, string>) =>
      call(web, event('GET /api/requests/{trackingNo}', { params: { trackingNo: TN }, ...(query ? { query } : {}) }));
    // Act
    const open = await get();
    const byToken = await get({ token: citizenToken(SECRET, TN) });
    const byPhone = await get({ phone4: '8000' });
    const wrong = await get({ phone4: '1234' });
    // Assess
    expect(open.json).toMatchObject({ status: 'processing', verified: false });
    expect(JSON.stringify(open.json)).not.toContain('已修复路灯');
    expect(byToken.json).toMatchObject({ verified: true, actions: ['addInformation'] });
    expect(JSON.stringify(byToken.json)).toContain('已修复路灯');
    // The phone digits open the view only; acting takes the notice link's token.
    expect(byPhone.json).toMatchObject({ verified: true, actions: [] });
    expect(wrong).toMatchObject({ status: 403, json: { error: { code: 'CITIZEN_PROOF_INVALID' } } });
  });

  it('should let the citizen add information and answer the follow-up with the link token, never without', async () => {
    // Prepare
    const post = (which: string, body: unknown, who: Who = 'anonymous') =>
      call(web, event(`POST /api/requests/{trackingNo}/${which}`, { who, params: { trackingNo: TN }, body }));
    // Act
    const none = await post('updates', { text: '补充：灯杆编号 A-17' });
    const staff = await post('updates', { text: '补充' }, 'agent');
    const digits = await post('updates', { text: '补充', phoneLast4: '8000' });
    const wrong = await post('updates', { text: '补充', token: 'x'.repeat(22) });
    const token = citizenToken(SECRET, TN);
    const added = await post('updates', { text: '补充：灯杆编号 A-17', token });
    const early = await post('follow-up', { satisfaction: '满意', resolved: true, token });
    // Assess
    expect(none).toMatchObject({ status: 401, json: { error: { code: 'CITIZEN_PROOF_REQUIRED' } } });
    expect(staff.status).toBe(401);
    expect(digits.status).toBe(401);
    expect(wrong).toMatchObject({ status: 403, json: { error: { code: 'CITIZEN_PROOF_INVALID' } } });
    expect(added.status).toBe(200);
    expect(added.json.history.at(-1)).toMatchObject({
      action: 'citizenUpdate',
      text: '补充：灯杆编号 A-17',
      by: '市民',
    });
    expect(bus.types()).toEqual(['Case.CitizenUpdated']);
    expect(early).toMatchObject({ status: 409, json: { error: { code: 'ILLEGAL_TRANSITION' } } });

    // The follow-up answer once the centre approved the closure; the follow-up notice carried the token.
    await call(dept, event('POST /api/dept/cases/{caseId}/sign', { who: 'chengguan', params: { caseId: TN } }));
    await call(
      dept,
      event('POST /api/dept/cases/{caseId}/resolve', {
        who: 'chengguan',
        params: { caseId: TN },
        body: { text: '已修复' },
      }),
    );
    await call(
      sup,
      event('POST /api/supervisor/cases/{caseId}/closure/approve', { who: 'supervisor', params: { caseId: TN } }),
    );
    const link = outbox.sent.find((m) => m.kind === 'case-follow-up')?.text ?? '';
    expect(link).toContain(`token=${token}`);
    const answered = await post('follow-up', { satisfaction: '满意', resolved: true, token });
    expect(answered.json).toMatchObject({ status: 'closed', statusLabel: '已办结' });
    expect(outbox.sent.map((m) => m.kind)).toEqual(['case-follow-up', 'case-closed']);
  });
});
