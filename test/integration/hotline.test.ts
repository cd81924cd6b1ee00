import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, ROOT } from '#local/stack.ts';
import { cityloop, eventually, http, startTestStack } from '../helpers/local-stack.ts';

const EVENTS = join(ROOT, '../shared/data/aws-events');
const AGENT_1 = { 'x-api-key': 'local-agent-001' };
const AGENT_2 = { 'x-api-key': 'local-agent-002' };
const CONTACT = '11111111-2222-4333-8444-555555555555';
const PHONE = '+8613812345678';

describe('Local stack: 12345 hotline (Amazon Connect + agent API)', () => {
  let stack: LocalStack;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  const env = () => ({ CITYLOOP_DATA_DIR: dataDir });
  /** The case of the street lamp reported on the first call. */
  let lampCase = '';

  beforeAll(async () => {
    ({ stack, dataDir, cleanup } = await startTestStack());
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('should pre-fill the call record the console fetches from a replayed Connect event', async () => {
    // Act: Connect runs the contact flow for a call from PHONE.
    const replay = await cityloop(
      ['connect-event', join(EVENTS, 'connectContactFlowEventAll.json'), '--contact-id', CONTACT, '--phone', PHONE],
      env(),
    );
    // Assess: the flow's attributes
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout)).toEqual({
      callRecord: 'saved',
      contactId: CONTACT,
      callerNumber: 'present',
      callerKnown: 'false',
      openCases: '0',
    });
    // The console fetches the call by contact id: the number is filled in from telephony.
    const res = await http(stack, 'GET', `/api/agent/calls/${CONTACT}`, undefined, AGENT_1);
    expect(res.status).toBe(200);
    expect(res.json.call).toMatchObject({
      contactId: CONTACT,
      caller: { phone: PHONE, status: 'present' },
      queue: { name: 'QueueOne' },
      attributes: { Language: 'en-US' },
    });
  });

  it('should record the minimal sample and refuse a malformed event with error attributes', async () => {
    // Act
    const min = await cityloop(['connect-event', join(EVENTS, 'connectContactFlowEventMin.json'), '--show'], env());
    const bad = await cityloop(
      ['connect-event', join(EVENTS, 'connectContactFlowEventMin.json'), '--contact-id', 'bad id!'],
      env(),
    );
    // Assess
    expect(min.code).toBe(0);
    expect(min.stdout).toContain('"callerNumber": "none"');
    expect(min.stdout).toContain('"status": "none"');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ callRecord: 'failed', error: 'INVALID_CONTACT_ID' });
  });

  it.each([
    ['no key', {}, 401, 'UNAUTHENTICATED'],
    ['an unknown key', { 'x-api-key': 'local-agent-999' }, 401, 'UNAUTHENTICATED'],
    ['a department key', { 'x-api-key': 'local-dept-zhujian' }, 403, 'FORBIDDEN_ROLE'],
  ])('should refuse the agent API with %s', async (_n, headers, status, code) => {
    const res = await http(stack, 'GET', `/api/agent/calls/${CONTACT}`, undefined, headers);
    expect(res).toMatchObject({ status, json: { error: { code } } });
  });

  it('should accept a call once, whoever retries, and carry the agent into the case trace', async () => {
    // Prepare
    const body = {
      contactId: CONTACT,
      seq: 1,
      citizen: { name: '陈女士' },
      text: '和平路88号门口的路灯坏了一个星期，晚上很黑，请尽快维修。',
      location: { address: '和平路88号' },
    };
    // Act
    const first = await http(stack, 'POST', '/api/agent/reports', body, AGENT_1);
    const retry = await http(stack, 'POST', '/api/agent/reports', body, AGENT_2);
    // Assess
    expect(first.status).toBe(202);
    expect(first.json).toMatchObject({ state: 'received', callerFrom: 'telephony', duplicate: false });
    expect(retry.json).toMatchObject({ trackingNo: first.json.trackingNo, duplicate: true });
    const tn = first.json.trackingNo as string;
    lampCase = tn;
    const c = await eventually(async () => {
      const r = await http(stack, 'GET', `/api/supervisor/cases/${tn}`, undefined, {
        'x-api-key': 'local-supervisor-001',
      });
      return r.status === 200 ? r.json : undefined;
    });
    expect(c.channel).toBe('hotline');
    expect(c.citizen).toMatchObject({ phone: PHONE });
    expect(c.history[0]).toMatchObject({ action: 'receive', actor: { id: 'agent-001' } });
    // The call record lists the report.
    const call = await http(stack, 'GET', `/api/agent/calls/${CONTACT}`, undefined, AGENT_2);
    expect(call.json.call.reports).toEqual([
      expect.objectContaining({ seq: 1, trackingNo: tn, enteredBy: 'agent-001' }),
    ]);
    expect(call.json.openCases.map((o: { trackingNo: string }) => o.trackingNo)).toContain(tn);
  });

  it('should suggest a category from the triage classifier while the agent types', async () => {
    // Act
    const res = await http(
      stack,
      'POST',
      '/api/agent/assist',
      { text: '和平路88号门口的路灯坏了，晚上很黑', contactId: CONTACT, location: { address: '和平路88号' } },
      AGENT_1,
    );
    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      classifier: 'ok',
      title: '和平路88号门口的路灯坏了，晚上很黑',
      caller: { phone: PHONE, from: 'telephony' },
      duplicates: 'ok',
    });
    // The street lamp filed from this call a moment ago is offered as a possible duplicate (重复件).
    expect(res.json.duplicateSuggestions).toEqual(
      expect.arrayContaining([expect.objectContaining({ caseId: lampCase, status: 'open' })]),
    );
    expect(res.json.suggestion.categoryName).toEqual(expect.any(String));
    expect(res.json.suggestion.confidence).toBeGreaterThan(0);
    expect(res.json.suggestion.confidence).toBeLessThanOrEqual(1);
    expect(res.json.openCases.length).toBeGreaterThan(0);
  });

  it('should close a consultation answered on the call at once, and triage must leave it closed', async () => {
    // Act
    const res = await http(
      stack,
      'POST',
      '/api/agent/reports',
      {
        contactId: CONTACT,
        seq: 2,
        nature: '咨询',
        text: '请问办理居住证需要什么材料？',
        answer: '携带身份证、租赁合同到社区工作站办理。',
      },
      AGENT_1,
    );
    // Assess
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ state: 'answered', statusLabel: '已答复' });
    await stack.drain();
    const status = await http(stack, 'GET', `/api/requests/${res.json.trackingNo}`);
    expect(status.json).toMatchObject({ trackingNo: res.json.trackingNo, status: 'answered' });
    // The next call from the same number: the flow hears of the one open case, not the answered one.
    const replay = await cityloop(
      ['connect-event', join(EVENTS, 'connectContactFlowEventAll.json'), '--contact-id', 'contact-2', '--phone', PHONE],
      env(),
    );
    expect(JSON.parse(replay.stdout)).toMatchObject({ callerKnown: 'true', openCases: '1' });
  });
});
