import { beforeEach, describe, expect, it } from 'vitest';
import { mergeCall } from '#channels/hotline/call-record.ts';
import type { Case } from '#core/case.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { StoredReport } from '#core/ports.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { attachRelation, attachToCase } from '#core/triage/attach.ts';
import { dedupeReportOf } from '#core/triage/merge.ts';
import { openCase } from '#core/triage/triage.ts';
import { AGENT_ROUTES, handleAgentApi } from '#functions/hotline/agent.ts';
import { setLogSink } from '#functions/lib/log.ts';
import { setup } from '../dedupe/helpers.ts';
import { agentEvent, categories, type Fakes, fakes, someLeaf } from './fakes.ts';

const CONTACT = '5ca32fbd-8f92-46af-92a5-6b0f970f0efe';
const OTHER_CONTACT = '6db43fce-9fa3-47b0-83b6-7c1fa81f1f0f';
const FILER = '+8613800138000';
const CASE_TN = '20251127000007';

function storedReport(tn: string, phone: string | undefined, text: string): StoredReport {
  return {
    trackingNo: tn as StoredReport['trackingNo'],
    idemKey: `web#key:${tn}`,
    acceptedAt: '2025-11-27T10:00:00.000+08:00',
    request: normalizeIntake({
      channel: 'web',
      channelMessageId: `key:${tn}`,
      receivedAt: '2025-11-27T10:00:00.000+08:00',
      citizen: phone ? { phone } : { anonymous: true },
      title: '和平路路灯不亮',
      text,
      location: { address: '和平路88号' },
    }),
  };
}

/** An open case, dispatched by triage, filed by FILER on the web. */
function openedCase(): { report: StoredReport; c: Case } {
  const report = storedReport(CASE_TN, FILER, '和平路88号路灯坏了，晚上很黑。');
  const { case: c } = openCase(report, {
    classify: () => ({ category: someLeaf.code, confidence: 0.95, decision: 'auto', reason: 'test' }),
    categories,
    departments: defaultDepartments,
    now: '2025-11-27T10:01:00.000+08:00',
  });
  return { report, c: { ...c, announcedVersion: 1 } };
}

function ringing(f: Fakes, contactId: string, phone: string) {
  f.calls.records.set(
    contactId,
    mergeCall(
      undefined,
      {
        contactId,
        channel: 'VOICE',
        callerPhone: phone,
        callerStatus: 'present',
        attributes: {},
        parameters: {},
        dropped: 0,
      },
      '2025-11-28T09:58:00.000+08:00',
    ),
  );
}

async function post(f: Fakes, body: unknown, who: Parameters<typeof agentEvent>[1] = 'agent-001') {
  const res = await handleAgentApi(agentEvent(AGENT_ROUTES.reports, who, { body }), f.deps).catch((e) => ({
    statusCode: e.status ?? 500,
    body: JSON.stringify({ error: e.toJSON?.() ?? { code: 'INTERNAL', message: String(e) } }),
  }));
  return { status: res.statusCode ?? 0, json: JSON.parse(String(res.body ?? '{}')) };
}

describe('Function: attachToCase', () => {
  it('should call the case citizen a repeat and anyone else (or anonymous) an incident report', () => {
    // Prepare
    const { c } = openedCase();
    // Act & Assess
    expect(attachRelation(c, { phone: FILER })).toBe('repeat');
    expect(attachRelation(c, { phone: '+8613900139000' })).toBe('incident');
    expect(attachRelation(c, { anonymous: true })).toBe('incident');
    expect(attachRelation(c, undefined)).toBe('incident');
  });

  it('should add the report as a reporter with one history entry by the agent, once', () => {
    // Prepare
    const { c } = openedCase();
    const call = storedReport('20251128000001', '+8613900139000', '和平路88号门口路灯也不亮');
    // Act
    const first = attachToCase(c, { report: call, agentId: 'agent-001', now: '2025-11-28T10:00:00.000+08:00' });
    const again = first
      ? attachToCase(first.next, { report: call, agentId: 'agent-001', now: '2025-11-28T10:00:01.000+08:00' })
      : undefined;
    // Assess
    expect(first?.relation).toBe('incident');
    expect(first?.next).toMatchObject({ version: c.version + 1, reportCount: 2, reporterCount: 2 });
    expect(first?.next.reporters.map((r) => [r.trackingNo, r.relation])).toEqual([
      [CASE_TN, 'new'],
      ['20251128000001', 'incident'],
    ]);
    const entry = first?.next.history.at(-1);
    expect(entry).toMatchObject({ actor: { role: 'agent', id: 'agent-001' }, visibility: 'internal' });
    expect(entry?.text).toContain('并案');
    expect(entry?.text).toContain('20251128000001');
    expect(again).toBeUndefined();
  });

  it('should owe Case.IncidentGrew when the attached report makes the fifth reporter', () => {
    // Prepare
    const { c } = openedCase();
    const grown: Case = { ...c, reportCount: 4, reporterCount: 4 };
    // Act
    const out = attachToCase(grown, {
      report: storedReport('20251128000002', '+8613700137000', '路灯不亮'),
      agentId: 'agent-001',
      now: '2025-11-28T10:00:00.000+08:00',
    });
    // Assess
    expect(out?.events.map((e) => e.detailType)).toEqual(['Case.IncidentGrew']);
    expect(out?.events[0]?.detail).toMatchObject({ threshold: 5, reporterCount: 5 });
    expect(out?.next.announcedVersion).toBe(c.announcedVersion);
  });

  it('should keep the count of a repeat and owe nothing', () => {
    // Prepare
    const { c } = openedCase();
    // Act
    const out = attachToCase(c, {
      report: storedReport('20251128000003', FILER, '还是没修'),
      agentId: 'agent-002',
      now: '2025-11-28T10:00:00.000+08:00',
    });
    // Assess
    expect(out?.relation).toBe('repeat');
    expect(out?.next.reportCount).toBe(1);
    expect(out?.events).toEqual([]);
    expect(out?.next.announcedVersion).toBe(out?.next.version);
  });
});

describe('Handler: attach a call to an open case (attachTo)', () => {
  let f: Fakes;
  beforeEach(async () => {
    f = fakes();
    setLogSink(() => undefined);
    const { report, c } = openedCase();
    await f.store.putReportIfAbsent(report);
    await f.store.createCase(c);
  });

  it('should put another caller on the case as 并案, link the report and tell the caller the case number', async () => {
    // Prepare
    ringing(f, OTHER_CONTACT, '+8613900139000');
    // Act
    const res = await post(f, {
      contactId: OTHER_CONTACT,
      seq: 1,
      text: '和平路88号那盏路灯还是不亮',
      attachTo: CASE_TN,
    });
    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ trackingNo: CASE_TN, caseId: CASE_TN, relation: 'incident', state: 'attached' });
    const own = res.json.reportTrackingNo as string;
    expect(own).not.toBe(CASE_TN);
    const c = await f.store.getCase(CASE_TN);
    expect(c?.reportCount).toBe(2);
    expect(c?.reporters.some((r) => r.trackingNo === own && r.relation === 'incident')).toBe(true);
    expect(c?.history.at(-1)?.actor).toEqual({ role: 'agent', id: 'agent-001' });
    const stored = await f.store.getReportByTrackingNo(own);
    expect(stored).toMatchObject({ caseId: CASE_TN, relation: 'incident' });
    expect(f.queue.sent).toEqual([]);
    expect(await f.store.getCase(own)).toBeUndefined();
    const sms = f.outbox.sent.find((m) => m.kind === 'case-attached');
    expect(sms).toMatchObject({ channel: 'sms', to: '+8613900139000', caseId: CASE_TN });
    expect(sms?.text).toContain(CASE_TN);
    expect(f.calls.records.get(OTHER_CONTACT)?.reports.map((r) => r.trackingNo)).toEqual([own]);
  });

  it('should make the filer calling again a 重复件 and a 市民补充 the department hears of', async () => {
    // Prepare
    ringing(f, CONTACT, FILER);
    // Act
    const res = await post(f, { contactId: CONTACT, seq: 1, text: '路灯还是不亮，已经三天了', attachTo: CASE_TN });
    // Assess
    expect(res.json).toMatchObject({ relation: 'repeat', reportCount: 1, citizenUpdate: 'added' });
    const c = await f.store.getCase(CASE_TN);
    expect(c?.history.filter((h) => h.action === 'citizenUpdate')).toHaveLength(1);
    expect(f.bus.events.map((e) => e.detailType)).toContain('Case.CitizenUpdated');
  });

  it('should answer a retry of the same call with the same case and change nothing twice', async () => {
    // Prepare
    ringing(f, CONTACT, FILER);
    const body = { contactId: CONTACT, seq: 1, text: '路灯还是不亮，已经三天了', attachTo: CASE_TN };
    const first = await post(f, body);
    const before = await f.store.getCase(CASE_TN);
    // Act
    const again = await post(f, body);
    // Assess
    expect(again.json).toMatchObject({ duplicate: true, reportTrackingNo: first.json.reportTrackingNo });
    expect(await f.store.getCase(CASE_TN)).toEqual(before);
    expect(f.outbox.sent.filter((m) => m.kind === 'case-attached')).toHaveLength(1);
  });

  it('should tell the dedupe engine, so the call counts as a reporter and a redelivered copy finds the case', async () => {
    // Prepare: an engine on the in-memory store, told of the case as triage would have told it.
    const { engine, store } = setup();
    const c = (await f.store.getCase(CASE_TN)) as Case;
    const filed = await f.store.getReportByTrackingNo(CASE_TN);
    await engine.process(dedupeReportOf(filed as StoredReport, c.category));
    const joins: string[] = [];
    f.deps.dedupeJoin = async (report, target, relation) => {
      joins.push(`${report.trackingNo}→${target.caseId} ${relation}`);
      await engine.join(dedupeReportOf(report, target.category), target.caseId, relation);
    };
    ringing(f, OTHER_CONTACT, '+8613900139000');
    // Act
    const res = await post(f, {
      contactId: OTHER_CONTACT,
      seq: 1,
      text: '和平路88号那盏路灯还是不亮',
      attachTo: CASE_TN,
    });
    const own = res.json.reportTrackingNo as string;
    const redelivered = await engine.process(
      dedupeReportOf((await f.store.getReportByTrackingNo(own)) as StoredReport, c.category),
    );
    // Assess
    expect(joins).toEqual([`${own}→${CASE_TN} incident`]);
    expect((await store.getCaseStates([CASE_TN])).get(CASE_TN)?.reporterCount).toBe(2);
    expect(redelivered).toMatchObject({ caseId: CASE_TN, replayed: true });
  });

  it('should attach the call even when the dedupe engine cannot be told', async () => {
    // Prepare
    f.deps.dedupeJoin = async () => {
      throw new Error('table unavailable');
    };
    ringing(f, OTHER_CONTACT, '+8613900139000');
    // Act
    const res = await post(f, {
      contactId: OTHER_CONTACT,
      seq: 1,
      text: '和平路88号那盏路灯还是不亮',
      attachTo: CASE_TN,
    });
    // Assess
    expect(res.status).toBe(200);
    expect((await f.store.getCase(CASE_TN))?.reportCount).toBe(2);
  });

  it('should refuse a concluded case before accepting anything (409 CASE_NOT_OPEN)', async () => {
    // Prepare
    const c = (await f.store.getCase(CASE_TN)) as Case;
    await f.store.replaceCase({ ...c, state: 'closed', version: c.version + 1 }, c.version);
    ringing(f, OTHER_CONTACT, '+8613900139000');
    // Act
    const res = await post(f, { contactId: OTHER_CONTACT, text: '路灯不亮', attachTo: CASE_TN });
    // Assess
    expect(res).toMatchObject({ status: 409, json: { error: { code: 'CASE_NOT_OPEN' } } });
    expect(f.store.reports.size).toBe(1);
  });

  it('should refuse an unknown case (404) and a malformed case id (400)', async () => {
    // Act
    const unknown = await post(f, {
      source: 'walkin',
      clientId: crypto.randomUUID(),
      citizen: { anonymous: true },
      text: '路灯',
      attachTo: '20251101000001',
    });
    const malformed = await post(f, { text: '路灯', attachTo: 'CASE#1' });
    // Assess
    expect(unknown).toMatchObject({ status: 404, json: { error: { code: 'CASE_NOT_FOUND' } } });
    expect(malformed).toMatchObject({ status: 400, json: { error: { code: 'INVALID_CASE_ID' } } });
  });

  it('should refuse to put a call already filed as its own case on another one (409 ALREADY_FILED)', async () => {
    // Prepare: the call was submitted normally and triage opened its case.
    ringing(f, OTHER_CONTACT, '+8613900139000');
    const filed = await post(f, { contactId: OTHER_CONTACT, seq: 1, text: '路灯不亮' });
    const own = storedReport(filed.json.trackingNo, '+8613900139000', '路灯不亮');
    const { case: ownCase } = openCase(own, {
      classify: () => ({ confidence: 0, decision: 'manual', reason: 'test' }),
      categories,
      departments: defaultDepartments,
      now: '2025-11-28T10:01:00.000+08:00',
    });
    await f.store.createCase(ownCase);
    // Act
    const res = await post(f, { contactId: OTHER_CONTACT, seq: 1, text: '路灯不亮', attachTo: CASE_TN });
    // Assess
    expect(res).toMatchObject({ status: 409, json: { error: { code: 'ALREADY_FILED' } } });
    expect((await f.store.getCase(CASE_TN))?.reportCount).toBe(1);
  });

  it('should hand the report to triage when the case write keeps losing, so nothing is lost', async () => {
    // Prepare
    ringing(f, OTHER_CONTACT, '+8613900139000');
    f.store.replaceCase = async () => false;
    // Act
    const res = await post(f, { contactId: OTHER_CONTACT, text: '路灯不亮', attachTo: CASE_TN });
    // Assess
    expect(res).toMatchObject({ status: 409, json: { error: { code: 'CONFLICT' } } });
    expect(f.queue.sent.map((m) => m.queueId)).toEqual(['intake']);
  });

  it('should refuse an answer together with attachTo', async () => {
    // Act
    const res = await post(f, {
      contactId: CONTACT,
      text: '几点上班',
      nature: '咨询',
      answer: '九点',
      attachTo: CASE_TN,
    });
    // Assess
    expect(res).toMatchObject({ status: 400, json: { error: { code: 'ATTACH_WITH_ANSWER' } } });
  });
});
