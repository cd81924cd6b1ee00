import { describe, expect, it } from 'vitest';
import { defaultCalendar } from '#core/calendar/default.ts';
import { citizenRefOf } from '#core/cases/mapping.ts';
import { isCityLoopError } from '#core/errors.ts';
import { computeDeadlines, type SlaRecord } from '#core/sla/deadlines.ts';
import { slaHook } from '#core/sla/lifecycle.ts';
import { defaultPolicyBook } from '#core/sla/policy.ts';
import { AGENT, CHENGGUAN, categories, harness, PHONE, SUPERVISOR, seed, triagedCase, ZHUJIAN } from './fakes.ts';

const TN = '20251128000001';

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isCityLoopError(e)) return { code: e.code, status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('Class: CaseService', () => {
  it('should sign a triage-opened case with one conditional write, one audit record and one announced event', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    // Act
    const done = await h.service.act(TN, { type: 'sign', text: '已安排班组' }, CHENGGUAN);
    // Assess
    const stored = h.store.cases.get(TN)!;
    expect(h.store.writes).toBe(1);
    expect(stored).toMatchObject({ state: 'signed', version: 2, announcedVersion: 2, department: 'chengguan' });
    expect(stored.history).toHaveLength(3);
    expect(stored.history[2]).toMatchObject({
      action: 'sign',
      from: 'dispatched',
      to: 'signed',
      version: 2,
      actor: { role: 'department', id: 'cg-clerk' },
      details: { note: '已安排班组' },
      visibility: 'public',
    });
    expect(stored.timestamps?.signedAt).toBe('2025-11-28T10:00:00.000+08:00');
    expect(done.announced).toBe(true);
    expect(h.bus.published).toHaveLength(1);
    const e = h.bus.published[0]!;
    expect(e.detailType).toBe('Case.Signed');
    expect(e.resources).toEqual([TN]);
    // The machine's detail over the triage-style case detail: departments get title, text and location.
    expect(e.detail).toMatchObject({
      eventId: `${TN}:2:Case.Signed`,
      caseId: TN,
      trackingNo: TN,
      version: 2,
      state: 'signed',
      department: 'chengguan',
      departmentName: '区城市管理和综合执法局',
      title: expect.any(String),
      text: '和平路88号路灯不亮',
      transition: { action: 'sign', from: 'dispatched', to: 'signed' },
    });
  });

  it('should answer NOT_FOUND for another department’s case exactly as for a missing one, and write nothing', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    // Act
    const foreignAct = await refusal(h.service.act(TN, { type: 'sign' }, ZHUJIAN));
    const foreignGet = await refusal(h.service.get(TN, ZHUJIAN));
    const missing = await refusal(h.service.act('20251128009999', { type: 'sign' }, ZHUJIAN));
    // A stale expectedVersion must not reveal existence either.
    const foreignStale = await refusal(h.service.act(TN, { type: 'sign' }, ZHUJIAN, { expectedVersion: 7 }));
    // Assess
    for (const r of [foreignAct, foreignGet, foreignStale]) expect(r).toEqual(missing);
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(h.store.writes).toBe(0);
    expect(h.bus.published).toHaveLength(0);
  });

  it('should refuse a stale expectedVersion with 409 CONFLICT', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    // Act
    const r = await refusal(h.service.act(TN, { type: 'sign' }, CHENGGUAN, { expectedVersion: 0 }));
    // Assess
    expect(r).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect(h.store.writes).toBe(0);
  });

  it('should answer 409 CONFLICT and publish nothing when the case changed between read and write', async () => {
    // Prepare: another writer bumps the version just before our conditional write.
    const h = harness();
    await seed(h, triagedCase());
    h.store.beforeReplace = () => {
      const cur = h.store.cases.get(TN)!;
      h.store.cases.set(TN, { ...cur, version: cur.version + 1 });
      h.store.beforeReplace = undefined;
    };
    // Act
    const r = await refusal(h.service.act(TN, { type: 'sign' }, CHENGGUAN));
    // Assess
    expect(r).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect(h.store.cases.get(TN)).toMatchObject({ state: 'dispatched', version: 2 });
    expect(h.bus.published).toHaveLength(0);
    expect(h.outbox.sent).toHaveLength(0);
  });

  it('should let exactly one of two concurrent transitions from the same version win', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    // Act
    const results = await Promise.allSettled([
      h.service.act(TN, { type: 'sign' }, CHENGGUAN, { expectedVersion: 1 }),
      h.service.act(TN, { type: 'requestReturn', reason: '不属于本单位职责' }, CHENGGUAN, { expectedVersion: 1 }),
    ]);
    // Assess
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ code: 'CONFLICT', status: 409 });
    expect(h.store.cases.get(TN)?.version).toBe(2);
    expect(h.store.cases.get(TN)?.history).toHaveLength(3);
  });

  it('should re-dispatch an approved return through Case.Dispatched to the new department, which alone may act then', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    await h.service.act(TN, { type: 'requestReturn', reason: '路灯属供电局维护' }, CHENGGUAN);
    // Act
    const done = await h.service.act(
      TN,
      { type: 'approveReturn', department: 'gongdian', category: 'GY-05', reason: '改派供电局' },
      SUPERVISOR,
    );
    // Assess
    expect(done.event).toMatchObject({
      detailType: 'Case.Dispatched',
      detail: {
        department: 'gongdian',
        departmentName: '区供电局',
        category: 'GY-05',
        categoryName: '电力设施隐患',
        transition: {
          action: 'approveReturn',
          details: { previousDepartment: 'chengguan', returnReason: '路灯属供电局维护' },
        },
      },
    });
    expect(h.bus.types()).toEqual(['Case.ReturnRequested', 'Case.Dispatched']);
    const stored = h.store.cases.get(TN)!;
    expect(stored).toMatchObject({ department: 'gongdian', category: 'GY-05', counts: { returnCount: 1 } });
    expect(stored.classification).toMatchObject({
      category: 'GY-05',
      categoryName: '电力设施隐患',
      decision: 'manual',
    });
    expect((await refusal(h.service.get(TN, CHENGGUAN))).code).toBe('NOT_FOUND');
    const gongdian = { role: 'department', id: 'gd', department: 'gongdian' } as const;
    expect((await h.service.act(TN, { type: 'sign' }, gongdian)).case.state).toBe('signed');
  });

  it('should refuse a re-dispatch to an unknown department or category after the machine accepted it', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    // Act
    const dept = await refusal(
      h.service.act(TN, { type: 'redispatch', department: 'nowhere', reason: 'x' }, SUPERVISOR),
    );
    const centre = await refusal(
      h.service.act(TN, { type: 'redispatch', department: 'centre', reason: 'x' }, SUPERVISOR),
    );
    const cat = await refusal(
      h.service.act(TN, { type: 'redispatch', department: 'zhujian', category: 'XX-99', reason: 'x' }, SUPERVISOR),
    );
    // Assess
    expect(dept).toMatchObject({ code: 'UNKNOWN_DEPARTMENT', status: 422 });
    expect(centre.code).toBe('UNKNOWN_DEPARTMENT');
    expect(cat).toMatchObject({ code: 'UNKNOWN_CATEGORY', status: 422 });
    expect(h.store.writes).toBe(0);
  });

  it('should pass the machine’s refusals through with their codes', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    // Act + Assess
    expect(await refusal(h.service.act(TN, { type: 'resolve', text: 'done' }, CHENGGUAN))).toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      status: 409,
    });
    expect(await refusal(h.service.act(TN, { type: 'sign' }, SUPERVISOR))).toMatchObject({
      code: 'FORBIDDEN_ROLE',
      status: 403,
    });
    expect(await refusal(h.service.act(TN, { type: 'requestReturn' }, CHENGGUAN))).toMatchObject({
      code: 'REASON_REQUIRED',
      status: 400,
    });
  });

  it('should carry events a failed publish left owed into the next write, and announce them with it', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    h.bus.failCalls = 1;
    // Act
    const first = await h.service.act(TN, { type: 'sign' }, CHENGGUAN);
    const second = await h.service.act(TN, { type: 'contact', text: '电话联系市民' }, CHENGGUAN);
    // Assess
    expect(first.announced).toBe(false);
    expect(second.announced).toBe(true);
    expect(h.bus.published.map((e) => e.detail.eventId)).toEqual([`${TN}:2:Case.Signed`, `${TN}:3:Case.Contacted`]);
    expect(h.store.cases.get(TN)).toMatchObject({ version: 3, announcedVersion: 3 });
  });

  it('should re-announce the triage event of a case triage wrote but did not mark announced', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase(), false);
    // Act
    await h.service.act(TN, { type: 'sign' }, CHENGGUAN);
    // Assess
    expect(h.bus.published.map((e) => e.detail.eventId)).toEqual([`${TN}:1:Case.Dispatched`, `${TN}:2:Case.Signed`]);
  });

  it('should assign a manual-triage case, set its category name, route it and tell the citizen by SMS', async () => {
    // Prepare
    const h = harness();
    const c = await seed(h, triagedCase(TN, '小区门口有人长期占道摆摊'));
    expect(c.state).toBe('triage');
    // Act
    const done = await h.service.act(
      TN,
      { type: 'assignTriage', department: 'chengguan', category: 'CG-02' },
      SUPERVISOR,
    );
    // Assess
    expect(done.case).toMatchObject({ state: 'dispatched', department: 'chengguan', category: 'CG-02' });
    expect(done.case.classification.categoryName).toBe('占道经营');
    expect(done.event).toMatchObject({ detailType: 'Case.Dispatched', detail: { department: 'chengguan' } });
    expect(done.notice).toEqual({ channel: 'sms', kind: 'case-dispatched' });
    expect(h.outbox.sent[0]).toMatchObject({ channel: 'sms', to: PHONE, kind: 'case-dispatched', trackingNo: TN });
    expect(h.outbox.sent[0]?.text).toContain('区城市管理和综合执法局');
    expect(h.outbox.sent[0]?.text).toContain(`token=tok-${TN}`);
  });

  it('should notify the follow-up with the result, the closure, and nothing for internal steps', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase(TN, '和平路88号路灯不亮', { email: 'a@example.com' }, 'email'));
    // Act
    await h.service.act(TN, { type: 'sign' }, CHENGGUAN);
    await h.service.act(TN, { type: 'resolve', text: '已更换灯泡，恢复照明' }, CHENGGUAN);
    await h.service.act(TN, { type: 'approveClosure' }, SUPERVISOR);
    await h.service.act(TN, { type: 'recordFollowUp', satisfaction: '满意', resolved: true }, SUPERVISOR);
    // Assess
    expect(h.outbox.sent.map((m) => [m.channel, m.kind])).toEqual([
      ['email', 'case-follow-up'],
      ['email', 'case-closed'],
    ]);
    expect(h.outbox.sent[0]).toMatchObject({ to: 'a@example.com' });
    expect(h.outbox.sent[0]?.text).toContain('已更换灯泡，恢复照明');
    expect(h.outbox.sent[0]?.subject).toContain(TN);
  });

  it('should keep a transition when the notice fails, and send nothing to an anonymous citizen', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase(TN, '小区门口有人长期占道摆摊'));
    await seed(h, triagedCase('20251128000002', '另一处有人占道摆摊', { anonymous: true }));
    h.outbox.fail = true;
    // Act
    const a = await h.service.act(TN, { type: 'assignTriage', department: 'chengguan', category: 'CG-02' }, SUPERVISOR);
    h.outbox.fail = false;
    const b = await h.service.act(
      '20251128000002',
      { type: 'assignTriage', department: 'chengguan', category: 'CG-02' },
      SUPERVISOR,
    );
    // Assess
    expect(a.case.state).toBe('dispatched');
    expect(a.notice).toBeUndefined();
    expect(b.notice).toBeUndefined();
    expect(h.outbox.sent).toHaveLength(0);
  });

  it('should tell the citizen of a case triage dispatched automatically (the triage hook), not of one in triage', async () => {
    // Prepare
    const h = harness();
    // Act
    const dispatched = await h.service.notifyOpened(triagedCase(TN, '路灯不亮', { openid: 'o-abc' }, 'wechat'));
    const manual = await h.service.notifyOpened(triagedCase('20251128000002', '说不清的问题'));
    // Assess
    expect(dispatched).toEqual({ channel: 'wechat', kind: 'case-dispatched' });
    expect(manual).toBeUndefined();
    expect(h.outbox.sent).toHaveLength(1);
    expect(h.outbox.sent[0]).toMatchObject({ to: 'o-abc', trackingNo: TN });
  });

  it('should let the citizen who filed the case answer the follow-up, and nobody else by a citizen id', async () => {
    // Prepare
    const h = harness();
    const c = await seed(h, triagedCase());
    await h.service.act(TN, { type: 'sign' }, CHENGGUAN);
    await h.service.act(TN, { type: 'resolve', text: '已修复' }, CHENGGUAN);
    await h.service.act(TN, { type: 'approveClosure' }, SUPERVISOR);
    const stranger = { role: 'citizen', id: 'someone-else' } as const;
    // Act
    const refused = await refusal(
      h.service.act(TN, { type: 'recordFollowUp', satisfaction: '满意', resolved: true }, stranger),
    );
    const me = { role: 'citizen', id: citizenRefOf(c)! } as const;
    const done = await h.service.act(TN, { type: 'recordFollowUp', satisfaction: '不满意', resolved: false }, me);
    // Assess
    expect(refused.code).toBe('NOT_FOUND');
    expect(done.case).toMatchObject({
      state: 'dispatched',
      department: 'chengguan',
      satisfaction: '不满意',
      counts: { reopenCount: 1 },
    });
    expect(done.event.detailType).toBe('Case.Dispatched');
    expect(h.outbox.sent.at(-1)?.text).toContain('重新办理');
  });

  it('should let an agent add a note but not sign, and list a department’s own cases only', async () => {
    // Prepare
    const h = harness();
    await seed(h, triagedCase());
    await seed(h, triagedCase('20251128000002', '有人占道摆摊'));
    // Act
    const note = await h.service.act(TN, { type: 'addNote', text: '市民来电催办' }, AGENT);
    const mine = await h.service.listDepartment('chengguan');
    const triage = await h.service.listDepartment('centre', { state: 'triage' });
    // Assess
    expect(note.audit).toMatchObject({ action: 'addNote', visibility: 'internal', to: 'dispatched' });
    expect(mine.cases.map((c) => c.caseId)).toEqual([TN]);
    expect(mine.more).toEqual({});
    expect(triage.cases.map((c) => c.caseId)).toEqual(['20251128000002']);
  });
});

describe('CaseService with the SLA engine’s hook (core/sla/lifecycle.ts)', () => {
  const book = defaultPolicyBook();
  const calendar = defaultCalendar();
  const withSla = () => {
    const c = triagedCase();
    const policy = book.resolve({ nature: c.nature, urgency: c.urgency, policyId: 'standard' });
    c.deadlines = computeDeadlines(policy, c.receivedAt, calendar, { dispatchedAt: c.dispatchedAt }) as never;
    return c;
  };

  it('should check the machine’s windows from the SLA record and move the due time on an approved extension', async () => {
    // Prepare
    const h = harness({ deadlines: slaHook({ book, calendar, categories }) });
    const c = await seed(h, withSla());
    const record = c.deadlines as unknown as SlaRecord;
    await h.service.act(TN, { type: 'sign' }, CHENGGUAN);
    const late = new Date(Date.parse(record.extensionLatest) + 86_400_000).toISOString();
    const tooLong = await refusal(
      h.service.act(TN, { type: 'requestExtension', reason: '需采购', newDueAt: late }, CHENGGUAN),
    );
    const wanted = new Date(Date.parse(record.resolveDue) + 2 * 86_400_000).toISOString().replace('Z', '+00:00');
    // Act
    await h.service.act(TN, { type: 'requestExtension', reason: '需采购配件', newDueAt: wanted }, CHENGGUAN);
    const done = await h.service.act(TN, { type: 'approveExtension' }, SUPERVISOR);
    // Assess
    expect(tooLong.code).toBe('EXTENSION_TOO_LONG');
    const next = done.case.deadlines as unknown as SlaRecord;
    expect(Date.parse(next.resolveDue)).toBe(Date.parse(wanted));
    expect(next.generation).toBeGreaterThan(record.generation);
    expect(Date.parse(done.case.windows?.dueAt ?? '')).toBe(Date.parse(wanted));
  });

  it('should restart the department clocks on re-dispatch', async () => {
    // Prepare
    const h = harness({ deadlines: slaHook({ book, calendar, categories }) });
    const c = await seed(h, withSla());
    h.clock.advance(60);
    // Act
    const done = await h.service.act(
      TN,
      { type: 'redispatch', department: 'gongdian', reason: '供电设施' },
      SUPERVISOR,
    );
    // Assess
    const before = c.deadlines as unknown as SlaRecord;
    const after = done.case.deadlines as unknown as SlaRecord;
    expect(after.generation).toBe(before.generation + 1);
    expect(Date.parse(after.signDue)).toBeGreaterThan(Date.parse(before.signDue));
    expect(done.case.windows?.returnBy).toBe(after.returnDue);
  });
});
