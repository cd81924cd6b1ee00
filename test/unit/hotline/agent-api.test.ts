import { beforeEach, describe, expect, it } from 'vitest';
import { mergeCall } from '#channels/hotline/call-record.ts';
import type { Case } from '#core/case.ts';
import { AGENT_ROUTES, handleAgentApi } from '#functions/hotline/agent.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { triagedCase } from '../cases/fakes.ts';
import { agentEvent, type Fakes, fakes, someLeaf } from './fakes.ts';

const CONTACT = '5ca32fbd-8f92-46af-92a5-6b0f970f0efe';
const WALKIN = '0f8c3a52-5d7b-4d0e-9c1a-2b3c4d5e6f70';

async function call(
  f: Fakes,
  route: string,
  who: Parameters<typeof agentEvent>[1],
  opts: Parameters<typeof agentEvent>[2] = {},
) {
  const res = await handleAgentApi(agentEvent(route, who, opts), f.deps).catch((e) => ({
    statusCode: e.status ?? 500,
    body: JSON.stringify({ error: e.toJSON?.() ?? { code: 'INTERNAL' } }),
  }));
  return { status: res.statusCode ?? 0, json: JSON.parse(String(res.body ?? '{}')) };
}

/** Connect has recorded the call: the number comes from telephony. */
function ringing(f: Fakes, contactId = CONTACT, phone = '+8613800138000') {
  f.calls.records.set(
    contactId,
    mergeCall(
      undefined,
      {
        contactId,
        channel: 'VOICE',
        callerPhone: phone,
        callerStatus: 'present',
        queue: { name: '12345' },
        attributes: { ivrChoice: '1' },
        parameters: {},
        dropped: 0,
      },
      '2025-11-28T09:58:00.000+08:00',
    ),
  );
}

const report = (over: Record<string, unknown> = {}) => ({
  contactId: CONTACT,
  seq: 1,
  citizen: { name: '王先生' },
  text: '和平路88号路灯坏了一个星期，晚上很黑。',
  location: { address: '和平路88号' },
  ...over,
});

describe('Handler: agent API authorization', () => {
  let f: Fakes;
  beforeEach(() => {
    f = fakes();
    setLogSink(() => undefined);
    ringing(f);
  });

  it('should refuse a request without an identity (401) and a department clerk (403)', async () => {
    // Act
    const anonymous = await call(f, AGENT_ROUTES.call, undefined, { pathParameters: { contactId: CONTACT } });
    const clerk = await call(f, AGENT_ROUTES.reports, 'zhujian-clerk', { body: report() });
    // Assess
    expect(anonymous).toMatchObject({ status: 401, json: { error: { code: 'UNAUTHENTICATED' } } });
    expect(clerk).toMatchObject({ status: 403, json: { error: { code: 'FORBIDDEN_ROLE' } } });
    expect(f.store.reports.size).toBe(0);
  });

  it('should let agents and supervisors in', async () => {
    // Act
    const agent = await call(f, AGENT_ROUTES.call, 'agent-001', { pathParameters: { contactId: CONTACT } });
    const sup = await call(f, AGENT_ROUTES.call, 'sup-001', { pathParameters: { contactId: CONTACT } });
    // Assess
    expect(agent.status).toBe(200);
    expect(sup.status).toBe(200);
  });
});

describe('Handler: GET /api/agent/calls/{contactId}', () => {
  let f: Fakes;
  beforeEach(() => {
    f = fakes();
    setLogSink(() => undefined);
  });

  it('should give the console the caller number from telephony, the queue and the open cases', async () => {
    // Prepare: the caller filed before, by web.
    ringing(f);
    await f.store.putReportIfAbsent({
      trackingNo: '20251127000005' as never,
      idemKey: 'web#x',
      acceptedAt: '2025-11-27T10:00:00.000+08:00',
      request: {
        channel: 'web',
        channelMessageId: 'x',
        receivedAt: '2025-11-27T10:00:00+08:00',
        citizen: { phone: '+8613800138000' },
        title: '噪音',
        text: '工地夜间施工',
      },
    });
    // Act
    const res = await call(f, AGENT_ROUTES.call, 'agent-001', { pathParameters: { contactId: CONTACT } });
    // Assess
    expect(res.status).toBe(200);
    expect(res.json.call).toMatchObject({
      contactId: CONTACT,
      caller: { phone: '+8613800138000', status: 'present' },
      queue: { name: '12345' },
      attributes: { ivrChoice: '1' },
      firstSeenAt: '2025-11-28T09:58:00.000+08:00',
    });
    expect(res.json.knownReports).toBe(1);
    expect(res.json.openCases).toEqual([expect.objectContaining({ trackingNo: '20251127000005', state: 'received' })]);
  });

  it('should still find an older open case behind many calls about another, and say when it read only some', async () => {
    // Prepare: case B filed first, then 30 calls about case A (催办) from the same number; both cases open
    ringing(f);
    const filed = (n: number, caseId: string, minute: number) =>
      f.store.putReportIfAbsent({
        trackingNo: `2025112700${String(n).padStart(4, '0')}` as never,
        idemKey: `web#${n}`,
        acceptedAt: `2025-11-27T${String(8 + Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00.000+08:00`,
        caseId,
        request: {
          channel: 'web',
          channelMessageId: String(n),
          receivedAt: '2025-11-27T08:00:00+08:00',
          citizen: { phone: '+8613800138000' },
          title: caseId === 'B' ? '噪音' : '井盖',
          text: '催办',
        },
      } as never);
    await filed(1, 'B', 0);
    for (let i = 0; i < 30; i++) await filed(100 + i, 'A', 10 + i);
    for (const id of ['A', 'B']) f.store.cases.set(id, { ...triagedCase(), caseId: id, state: 'signed' } as Case);
    // Act
    const res = await call(f, AGENT_ROUTES.call, 'agent-001', { pathParameters: { contactId: CONTACT } });
    // Assess
    expect(res.json.knownReports).toBe(31);
    expect(res.json.knownReportsMore).toBe(false);
    expect(res.json.openCases.map((c: { caseId: string }) => c.caseId).sort()).toEqual(['A', 'B']);
    // Act: 70 calls more, past the 100 reports a lookup reads
    for (let i = 0; i < 70; i++) await filed(200 + i, 'A', 40 + i);
    const later = await call(f, AGENT_ROUTES.call, 'agent-001', { pathParameters: { contactId: CONTACT } });
    // Assess: "100+", and the 70 newest reports are all about A
    expect(later.json.knownReports).toBe(100);
    expect(later.json.knownReportsMore).toBe(true);
  });

  it('should answer 404 for an unknown contact and 400 for a malformed one', async () => {
    expect(
      (await call(f, AGENT_ROUTES.call, 'agent-001', { pathParameters: { contactId: 'nope' } })).json.error.code,
    ).toBe('CALL_NOT_FOUND');
    expect((await call(f, AGENT_ROUTES.call, 'agent-001', { pathParameters: { contactId: 'a b' } })).status).toBe(400);
  });
});

describe('Handler: POST /api/agent/reports', () => {
  let f: Fakes;
  beforeEach(() => {
    f = fakes();
    setLogSink(() => undefined);
    ringing(f);
  });

  it('should accept a call with the telephony number and the agent as 录入人, and queue it for triage', async () => {
    // Act
    const res = await call(f, AGENT_ROUTES.reports, 'agent-001', {
      body: report({ citizen: { name: '王先生', phone: '13900000000' } }),
    });
    // Assess
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({
      trackingNo: '20251128000001',
      duplicate: false,
      state: 'received',
      source: 'call',
      callerFrom: 'telephony',
      channelMessageId: `${CONTACT}#1`,
    });
    const stored = f.store.reports.get(`hotline#${CONTACT}#1`)!;
    expect(stored.request).toMatchObject({
      channel: 'hotline',
      citizen: { name: '王先生', phone: '+8613800138000' },
      enteredBy: 'agent-001',
      receivedAt: '2025-11-28T09:58:00.000+08:00',
    });
    expect(f.queue.sent.filter((m) => m.queueId === 'intake')).toHaveLength(1);
    // The call record lists what was filed from it.
    expect(f.calls.records.get(CONTACT)?.reports).toEqual([
      expect.objectContaining({ seq: 1, trackingNo: '20251128000001', enteredBy: 'agent-001' }),
    ]);
  });

  it('should answer the same tracking number to a retry or a double click of the same contact id + seq', async () => {
    // Act
    const first = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: report() });
    const again = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: report({ text: '改了一个字' }) });
    const second = await call(f, AGENT_ROUTES.reports, 'agent-001', {
      body: report({ seq: 2, text: '另一件事：井盖丢失' }),
    });
    // Assess
    expect(again.json).toMatchObject({ trackingNo: first.json.trackingNo, duplicate: true });
    expect(second.json.trackingNo).not.toBe(first.json.trackingNo);
    expect(f.store.reports.size).toBe(2);
    expect(f.calls.records.get(CONTACT)?.reports.map((r) => r.seq)).toEqual([1, 2]);
  });

  it("should keep agent A's report when agent B submits the same call again, and record each agent's own", async () => {
    // Act
    const a = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: report() });
    const b = await call(f, AGENT_ROUTES.reports, 'agent-002', { body: report() });
    const bOwn = await call(f, AGENT_ROUTES.reports, 'agent-002', { body: report({ seq: 2 }) });
    // Assess
    expect(b.json).toMatchObject({ trackingNo: a.json.trackingNo, duplicate: true });
    expect(f.store.reports.get(`hotline#${CONTACT}#1`)?.request.enteredBy).toBe('agent-001');
    expect(f.store.reports.get(`hotline#${CONTACT}#2`)?.request.enteredBy).toBe('agent-002');
    expect(bOwn.json.duplicate).toBe(false);
  });

  it("should key walk-ins by the agent, so two agents' forms never collide", async () => {
    // Prepare
    const walkin = { clientId: WALKIN, citizen: { phone: '13700000000' }, text: '来访反映小区电梯故障' };
    // Act
    const a = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: walkin });
    const aAgain = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: walkin });
    const b = await call(f, AGENT_ROUTES.reports, 'agent-002', { body: walkin });
    // Assess
    expect(a.json).toMatchObject({ source: 'walkin', callerFrom: 'typed', duplicate: false });
    expect(aAgain.json).toMatchObject({ trackingNo: a.json.trackingNo, duplicate: true });
    expect(b.json.trackingNo).not.toBe(a.json.trackingNo);
    expect(f.store.reports.has(`hotline#walkin:agent-001:${WALKIN}`)).toBe(true);
  });

  it('should make one report of one letter, whoever enters it', async () => {
    // Prepare
    const letter = {
      ref: '坪信2025-012',
      receivedAt: '2025-11-20',
      citizen: { anonymous: true },
      text: '反映垃圾站异味',
    };
    // Act
    const a = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: letter });
    const b = await call(f, AGENT_ROUTES.reports, 'agent-002', { body: letter });
    // Assess
    expect(b.json).toMatchObject({ trackingNo: a.json.trackingNo, duplicate: true, source: 'letter' });
    expect(f.store.reports.get('hotline#letter:坪信2025-012')?.request.receivedAt).toBe('2025-11-20T00:00:00+08:00');
  });

  it.each([
    ['no text', report({ text: '' }), 400, 'VALIDATION_FAILED'],
    ['a bad typed phone on a walk-in', { clientId: WALKIN, citizen: { phone: '12' }, text: 'x' }, 400, 'INVALID_PHONE'],
    ['no source', { text: '内容', citizen: { anonymous: true } }, 400, 'SOURCE_REQUIRED'],
    ['an unknown nature', report({ nature: '表扬' }), 400, 'VALIDATION_FAILED'],
    ['a JSON array', '[1]', 400, 'MALFORMED_JSON'],
  ])('should refuse %s with a coded 4xx', async (_n, body, status, code) => {
    // Act
    const res = await call(f, AGENT_ROUTES.reports, 'agent-001', { body });
    // Assess
    expect(res).toMatchObject({ status, json: { error: { code } } });
  });
});

describe('Handler: 咨询 直接答复 (answered on the call)', () => {
  let f: Fakes;
  beforeEach(() => {
    f = fakes();
    setLogSink(() => undefined);
    ringing(f);
  });

  const consult = (over: Record<string, unknown> = {}) =>
    report({
      text: '请问公积金提取需要带什么材料？',
      nature: '咨询',
      answer: '携带身份证和银行卡到公积金中心窗口办理，也可在网上办理。',
      ...over,
    });

  it('should close the consultation at once with the answer recorded by the agent', async () => {
    // Act
    const res = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult({ category: someLeaf.code }) });
    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ state: 'answered', duplicate: false, statusLabel: '已答复' });
    const c = f.store.cases.get(res.json.trackingNo) as Case;
    expect(c).toMatchObject({
      state: 'answered',
      version: 2,
      nature: '咨询',
      category: someLeaf.code,
      channel: 'hotline',
      citizen: { phone: '+8613800138000' },
      announcedVersion: 2,
    });
    expect(c.history.map((h) => [h.action, h.to, h.actor])).toEqual([
      ['receive', 'received', { role: 'agent', id: 'agent-001' }],
      ['answer', 'answered', { role: 'agent', id: 'agent-001' }],
    ]);
    expect(c.history[1]?.text).toBe('携带身份证和银行卡到公积金中心窗口办理，也可在网上办理。');
    expect(f.bus.events.map((e) => e.detailType)).toEqual(['Case.Received', 'Case.Answered']);
    // Announced: triage (and dedupe) never see the report, so it cannot be grouped with another case.
    expect(f.queue.sent).toHaveLength(0);
    // The caller gets the answer in writing.
    expect(f.outbox.sent).toEqual([
      expect.objectContaining({ channel: 'sms', to: '+8613800138000', kind: 'case-answered' }),
    ]);
  });

  it('should treat the answer as a consultation when no nature was picked, and a retry as the same', async () => {
    // Act
    const first = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult({ nature: undefined }) });
    const again = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult({ nature: undefined }) });
    // Assess
    expect(first.json).toMatchObject({ state: 'answered', duplicate: false });
    expect(again.json).toMatchObject({ state: 'answered', duplicate: true, trackingNo: first.json.trackingNo });
    expect(f.bus.events.filter((e) => e.detailType === 'Case.Answered')).toHaveLength(1);
    expect(f.outbox.sent).toHaveLength(1);
  });

  it('should answer a case filed earlier from the same call through the lifecycle service', async () => {
    // Prepare: filed without the answer; triage put it in manual triage.
    const filed = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult({ answer: undefined }) });
    const tn = filed.json.trackingNo as string;
    const stored = f.store.reports.get(`hotline#${CONTACT}#1`)!;
    f.store.cases.set(tn, {
      caseId: tn,
      trackingNo: tn,
      state: 'triage',
      version: 1,
      department: 'centre',
      nature: '咨询',
      urgency: 'normal',
      channel: 'hotline',
      title: stored.request.title,
      text: stored.request.text,
      citizen: stored.request.citizen,
      receivedAt: stored.request.receivedAt,
      updatedAt: stored.acceptedAt,
      classification: { confidence: 0.2, decision: 'manual', reason: 'low' },
      reportCount: 1,
      reporters: [],
      announcedVersion: 1,
      history: [],
    });
    // Act
    const res = await call(f, AGENT_ROUTES.reports, 'agent-002', { body: consult() });
    // Assess
    expect(res.json).toMatchObject({ trackingNo: tn, state: 'answered' });
    const c = f.store.cases.get(tn)!;
    expect(c.state).toBe('answered');
    expect(c.history.at(-1)).toMatchObject({ action: 'answer', actor: { role: 'agent', id: 'agent-002' } });
  });

  it('should refuse to answer a complaint, an empty answer and an unknown category, storing nothing', async () => {
    // Act
    const complaint = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult({ nature: '投诉' }) });
    const empty = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult({ answer: '   ' }) });
    const unknown = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult({ category: 'NO-SUCH' }) });
    // Assess
    expect(complaint).toMatchObject({ status: 400, json: { error: { code: 'NOT_A_CONSULTATION' } } });
    expect(empty).toMatchObject({ status: 400, json: { error: { code: 'TEXT_REQUIRED' } } });
    expect(unknown).toMatchObject({ status: 422, json: { error: { code: 'UNKNOWN_CATEGORY' } } });
    expect(f.store.reports.size).toBe(0);
  });

  it('should still triage the report when the answered case cannot be written', async () => {
    // Prepare
    f.store.createCase = async () => {
      throw new Error('table unavailable');
    };
    // Act
    const res = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult() });
    // Assess: an error for the agent to retry, and the report is stored and queued: nothing typed is lost.
    expect(res.status).toBe(500);
    expect(f.store.reports.size).toBe(1);
    expect(f.queue.sent.filter((m) => m.queueId === 'intake')).toHaveLength(1);
  });

  it('should leave the events owed on the case when the bus is down, and let triage re-send them', async () => {
    // Prepare: when the triage message leaves, the case must already be answered.
    f.bus.failing = true;
    let stateWhenQueued: string | undefined;
    f.queue.onSend = () => {
      stateWhenQueued = [...f.store.cases.values()][0]?.state;
    };
    // Act
    const res = await call(f, AGENT_ROUTES.reports, 'agent-001', { body: consult() });
    // Assess
    const c = f.store.cases.get(res.json.trackingNo)!;
    expect(res.json.state).toBe('answered');
    expect(c.announcedVersion).toBe(0);
    expect(c.pendingEvents?.map((e) => e.detailType)).toEqual(['Case.Received', 'Case.Answered']);
    expect(f.queue.sent.filter((m) => m.queueId === 'intake')).toHaveLength(1);
    expect(stateWhenQueued).toBe('answered');
  });
});

describe('Handler: POST /api/agent/assist', () => {
  it('should suggest the category with confidence and alternatives, the caller cases and duplicates', async () => {
    // Prepare
    const [a, b] = [...fakes().deps.categories.values()].filter((c) => c.parent && c.department);
    const f = fakes({
      classify: (input) => ({
        category: input.text.includes('路灯') ? a!.code : b!.code,
        confidence: 0.82,
        decision: 'auto',
        reason: 'model',
        alternatives: [
          { category: b!.code, confidence: 0.1 },
          { category: 'NO-SUCH', confidence: 0.05 },
        ],
      }),
    });
    setLogSink(() => undefined);
    ringing(f);
    // Act
    const res = await call(f, AGENT_ROUTES.assist, 'agent-001', {
      body: { text: '和平路的路灯不亮了。已经一周', contactId: CONTACT, location: { address: '和平路88号' } },
    });
    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      suggestion: { category: a!.code, categoryName: a!.name, confidence: 0.82, decision: 'auto' },
      alternatives: [{ category: b!.code, categoryName: b!.name, confidence: 0.1 }],
      classifier: 'ok',
      title: '和平路的路灯不亮了',
      caller: { phone: '+8613800138000', from: 'telephony' },
      openCases: [],
      duplicateSuggestions: [],
    });
  });

  it('should hand the draft and its category to the dedupe engine, and survive it failing', async () => {
    // Prepare
    const leaf = someLeaf;
    const f = fakes({ classify: () => ({ category: leaf.code, confidence: 0.9, decision: 'auto', reason: 'model' }) });
    setLogSink(() => undefined);
    ringing(f);
    const queries: unknown[] = [];
    const match = {
      caseId: '20251127000001',
      title: '路灯不亮',
      receivedAt: '2025-11-27T10:00:00+08:00',
      status: 'open' as const,
      reporterCount: 2,
      textSimilarity: 0.8,
      relation: 'incident' as const,
      score: 0.8,
    };
    f.deps.duplicateSuggestions = async (q) => {
      queries.push(q);
      return [match];
    };
    // Act
    const found = await call(f, AGENT_ROUTES.assist, 'agent-001', {
      body: {
        text: '路灯不亮',
        contactId: CONTACT,
        location: { address: '和平路88号', lat: 22.7, lon: 114.3, datum: 'GCJ02' },
      },
    });
    f.deps.duplicateSuggestions = async () => {
      throw new Error('dedupe table unavailable');
    };
    const failed = await call(f, AGENT_ROUTES.assist, 'agent-001', { body: { text: '路灯不亮' } });
    // Assess
    expect(found.json).toMatchObject({ duplicates: 'ok', duplicateSuggestions: [match] });
    expect(queries[0]).toMatchObject({
      text: '路灯不亮',
      category: leaf.code,
      citizen: { phone: '+8613800138000' },
      location: { address: '和平路88号', lat: 22.7, lon: 114.3, datum: 'GCJ02' },
    });
    expect(failed).toMatchObject({ status: 200, json: { duplicates: 'unavailable', duplicateSuggestions: [] } });
    expect(failed.json.suggestion.category).toBe(leaf.code);
  });

  it('should still answer with the caller cases when the classifier is unavailable', async () => {
    // Prepare
    const f = fakes({ classify: 'unavailable' });
    setLogSink(() => undefined);
    // Act
    const res = await call(f, AGENT_ROUTES.assist, 'agent-001', { body: { text: '咨询社保', phone: '13800138000' } });
    const empty = await call(f, AGENT_ROUTES.assist, 'agent-001', { body: { text: '  ' } });
    // Assess
    expect(res.json).toMatchObject({ suggestion: null, classifier: 'unavailable', caller: { from: 'typed' } });
    expect(empty).toMatchObject({ status: 400, json: { error: { code: 'TEXT_REQUIRED' } } });
  });
});
