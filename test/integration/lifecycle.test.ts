/**
 * The case lifecycle end to end on the local stack: a web request walks dispatch → return → re-dispatch → sign →
 * extension → resolve → follow-up dissatisfied (重办) → resolve → follow-up satisfied → archive, with the department
 * and supervisor queues, the audit trail, the citizen's page and the outbox checked at each step; and a race on one
 * case that exactly one request wins.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack.ts';
import { eventually, http, startTestStack } from '../helpers/local-stack.ts';

const PHONE = '13800138000';
const CHENGGUAN = { 'x-api-key': 'local-dept-chengguan' };
const GONGDIAN = { 'x-api-key': 'local-dept-gongdian' };
const SUPERVISOR = { 'x-api-key': 'local-supervisor-001' };

interface Envelope {
  'detail-type': string;
  detail: Record<string, unknown> & { eventId: string };
}

describe('Local stack: the case lifecycle', () => {
  let stack: LocalStack;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let sqs: SQSClient;

  beforeAll(async () => {
    ({ stack, dataDir, cleanup } = await startTestStack());
    sqs = new SQSClient({ endpoint: stack.info.endpoints.sqs, region: stack.info.region });
  });
  afterAll(async () => {
    await cleanup?.();
  });

  /** Event ids already taken: an at-least-once repeat of one of them is not a new message. */
  const seen = new Set<string>();

  /** Receives and deletes what is on a queue now, without the repeats of events already seen. */
  async function receive(queueId: string, waitSeconds: number): Promise<Envelope[]> {
    const url = stack.info.queues[queueId]!;
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
    );
    const fresh: Envelope[] = [];
    for (const m of out.Messages ?? []) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
      const e = JSON.parse(m.Body ?? '{}') as Envelope;
      // Per queue: one event routed to two queues (department and supervisors) is one message on each.
      const key = `${queueId}:${e.detail.eventId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      fresh.push(e);
    }
    return fresh;
  }

  /** Takes exactly `n` new messages off a queue (EventBridge delivers asynchronously: waits for them). */
  async function take(queueId: string, n: number): Promise<Envelope[]> {
    const got: Envelope[] = [];
    await eventually(
      async () => {
        got.push(...(await receive(queueId, got.length < n ? 1 : 0)));
        return got.length >= n;
      },
      10_000,
      0,
    );
    expect(got).toHaveLength(n);
    return got;
  }

  type Notice = { kind: string; to: string; text: string; channel: string };
  let noticesSeen = 0;

  /** The SMS notices written to the local outbox since the last call. */
  function newNotices(): Notice[] {
    const dir = join(dataDir, 'outbox', 'sms');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    } catch {
      files = [];
    }
    const all = files.sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Notice);
    const fresh = all.slice(noticesSeen);
    noticesSeen = all.length;
    return fresh;
  }

  const dept = (headers: Record<string, string>, tn: string, action: string, body: unknown = {}) =>
    http(stack, 'POST', `/api/dept/cases/${tn}/${action}`, body, headers);
  const sup = (tn: string, action: string, body: unknown = {}) =>
    http(stack, 'POST', `/api/supervisor/cases/${tn}/${action}`, body, SUPERVISOR);

  async function submit(key: string, title: string, text: string): Promise<string> {
    const posted = await http(
      stack,
      'POST',
      '/api/requests',
      { title, text, citizen: { phone: PHONE }, location: { address: '和平路88号' } },
      { 'idempotency-key': key },
    );
    expect(posted.status).toBe(202);
    const tn = posted.json.trackingNo as string;
    await eventually(async () => (await http(stack, 'GET', `/api/requests/${tn}`)).json?.status === 'dispatched');
    return tn;
  }

  it('should walk a case through the whole loop with queues, trace, citizen page and notices at each step', async () => {
    // 派单 (triage): the department queue gets the case.
    const tn = await submit(
      'lifecycle-e2e-0001',
      '路灯不亮',
      '和平路88号门口的路灯已经坏了一个星期，晚上很黑，请尽快维修。',
    );
    const [dispatched] = await take('dept-chengguan', 1);
    expect(dispatched).toMatchObject({
      'detail-type': 'Case.Dispatched',
      detail: { trackingNo: tn, department: 'chengguan' },
    });
    // Triage's own dispatch notice (`notifyCaseOpened`): the citizen hears by SMS which department handles it.
    const opened: Notice[] = [];
    await eventually(async () => {
      opened.push(...newNotices());
      return opened.length > 0;
    });
    expect(opened.map((m) => m.kind)).toEqual(['case-dispatched']);
    expect(opened[0]).toMatchObject({ channel: 'sms', to: `+86${PHONE}`, trackingNo: tn });
    expect(opened[0]?.text).toContain('区城市管理和综合执法局');

    // 退单申请: reason required; the supervisors are asked.
    expect((await dept(CHENGGUAN, tn, 'return', {})).json.error.code).toBe('REASON_REQUIRED');
    const returned = await dept(CHENGGUAN, tn, 'return', {
      reason: '路灯由供电局维护，不属本单位职责',
      expectedVersion: 1,
    });
    expect(returned.status).toBe(200);
    expect(returned.json.case).toMatchObject({ state: 'returnRequested', version: 2, pending: 'return' });
    const [askedReturn] = await take('supervisors', 1);
    expect(askedReturn).toMatchObject({
      'detail-type': 'Case.ReturnRequested',
      detail: { caseId: tn, transition: { reason: '路灯由供电局维护，不属本单位职责' } },
    });
    let page = (await http(stack, 'GET', `/api/requests/${tn}`)).json;
    expect(page).toMatchObject({ status: 'processing', statusLabel: '处理中' });
    expect(page.history.map((h: { action: string }) => h.action)).toEqual(['receive', 'dispatch']);

    // 退单审核通过 → 改派: the new department's queue, the citizen told by SMS, the old department locked out.
    const moved = await sup(tn, 'return/approve', { department: 'gongdian', category: 'GY-05', reason: '改派供电局' });
    expect(moved.json.case).toMatchObject({
      state: 'dispatched',
      department: 'gongdian',
      categoryName: '电力设施隐患',
    });
    const [redispatched] = await take('dept-gongdian', 1);
    expect(redispatched).toMatchObject({
      'detail-type': 'Case.Dispatched',
      detail: {
        department: 'gongdian',
        title: '路灯不亮',
        citizen: { phone: `+86${PHONE}` },
        transition: { action: 'approveReturn', details: { previousDepartment: 'chengguan' } },
      },
    });
    expect((await http(stack, 'GET', `/api/dept/cases/${tn}`, undefined, CHENGGUAN)).status).toBe(404);
    let notices = newNotices();
    expect(notices.map((m) => m.kind)).toEqual(['case-dispatched']);
    expect(notices[0]).toMatchObject({ channel: 'sms', to: `+86${PHONE}` });
    expect(notices[0]?.text).toContain('已改由区供电局办理');
    const token = /token=([\w-]+)/.exec(notices[0]?.text ?? '')?.[1] ?? '';
    expect(token).toHaveLength(22);
    page = (await http(stack, 'GET', `/api/requests/${tn}?token=${token}`)).json;
    expect(page).toMatchObject({ verified: true, department: { id: 'gongdian', name: '区供电局' } });
    expect(page.history.at(-1)).toMatchObject({ label: '改派', department: { id: 'gongdian' } });

    // 签收 and 先行联系; the citizen adds information, which reaches the department.
    const signed = await dept(GONGDIAN, tn, 'sign', { text: '已安排抢修班组', expectedVersion: 3 });
    expect(newNotices()).toEqual([]);
    expect(signed.json.case).toMatchObject({ state: 'signed', version: 4 });
    expect((await dept(GONGDIAN, tn, 'contact', { text: '已电话联系市民' })).status).toBe(200);
    const added = await http(stack, 'POST', `/api/requests/${tn}/updates`, { text: '补充：灯杆编号 A-17', token });
    expect(added.status).toBe(200);
    const [update] = await take('dept-gongdian', 1);
    expect(update).toMatchObject({
      'detail-type': 'Case.CitizenUpdated',
      detail: { transition: { text: '补充：灯杆编号 A-17' } },
    });

    // 延期申请 within the limits the SLA engine set, and its approval.
    const detail = (await http(stack, 'GET', `/api/dept/cases/${tn}`, undefined, GONGDIAN)).json;
    expect(detail.windows.dueAt).toEqual(expect.any(String));
    const newDueAt = new Date(Date.parse(detail.windows.dueAt) + 86_400_000).toISOString().replace('Z', '+00:00');
    const extension = await dept(GONGDIAN, tn, 'extension', { reason: '需更换电缆，等待物资', newDueAt });
    expect(extension.json.case).toMatchObject({
      state: 'signed',
      stateLabel: '签收（延期申请中）',
      pending: 'extension',
    });
    const [askedExtension] = await take('supervisors', 1);
    expect(askedExtension?.['detail-type']).toBe('Case.ExtensionRequested');
    const granted = await sup(tn, 'extension/approve', { reason: '同意' });
    expect(Date.parse(granted.json.case.dueAt)).toBe(Date.parse(newDueAt));
    const [approvedExtension] = await take('dept-gongdian', 1);
    expect(approvedExtension).toMatchObject({
      'detail-type': 'Case.ExtensionApproved',
      detail: { department: 'gongdian', transition: { details: { newDueAt } } },
    });
    page = (await http(stack, 'GET', `/api/requests/${tn}?token=${token}`)).json;
    expect(page.history.at(-1)).toMatchObject({ label: '办理时限延长', dueAt: newDueAt });

    // 办结反馈 → the centre reviews (queue) → 审核通过 → the citizen is asked to rate the result.
    const attachments = [
      { name: '现场.jpg', contentType: 'image/jpeg', size: 2048, storageKey: 'attachments/a-17.jpg' },
    ];
    await dept(GONGDIAN, tn, 'resolve', { text: '已更换电缆和灯具，恢复照明', attachments });
    const [review] = await take('supervisors', 1);
    expect(review).toMatchObject({ 'detail-type': 'Case.Resolved', detail: { transition: { attachments } } });
    await sup(tn, 'closure/approve');
    notices = newNotices();
    expect(notices.map((m) => m.kind)).toEqual(['case-follow-up']);
    expect(notices[0]?.text).toContain('已更换电缆和灯具，恢复照明');
    page = (await http(stack, 'GET', `/api/requests/${tn}?token=${token}`)).json;
    expect(page).toMatchObject({ status: 'followUp', statusLabel: '待回访', actions: ['addInformation', 'followUp'] });
    // A hotline caller with the phone's last 4 digits reads the result too (acting takes the link's token).
    page = (await http(stack, 'GET', `/api/requests/${tn}`, undefined, { 'x-citizen-phone4': '8000' })).json;
    expect(page).toMatchObject({ verified: true, actions: [] });
    expect(JSON.stringify(page)).toContain('已更换电缆和灯具，恢复照明');

    // 回访: the citizen is not satisfied → 重办 to the same department, announced to its queue.
    const unhappy = await http(stack, 'POST', `/api/requests/${tn}/follow-up`, {
      satisfaction: '不满意',
      resolved: false,
      text: '晚上还是不亮',
      token,
    });
    expect(unhappy.json).toMatchObject({ status: 'dispatched', department: { id: 'gongdian' } });
    const [reopened] = await take('dept-gongdian', 1);
    expect(reopened).toMatchObject({
      'detail-type': 'Case.Dispatched',
      detail: { department: 'gongdian', transition: { action: 'recordFollowUp', details: { reopened: true } } },
    });
    notices = newNotices();
    expect(notices.map((m) => m.kind)).toEqual(['case-dispatched']);
    expect(notices[0]?.text).toContain('已交由区供电局重新办理');

    // Second round: sign, resolve, review, satisfied (the centre's call back) → 办结, then 归档.
    await dept(GONGDIAN, tn, 'sign');
    await dept(GONGDIAN, tn, 'resolve', { text: '更换了控制器，连续三晚正常' });
    await take('supervisors', 1);
    await sup(tn, 'closure/approve');
    const closed = await sup(tn, 'follow-up', { satisfaction: '满意', resolved: true, text: '回访市民，表示满意' });
    expect(closed.json.case).toMatchObject({ state: 'closed', satisfaction: '满意', resolvedFlag: true });
    expect(newNotices().map((m) => m.kind)).toEqual(['case-follow-up', 'case-closed']);
    const archived = await sup(tn, 'archive');
    expect(newNotices()).toEqual([]);
    expect(archived.json.case).toMatchObject({
      state: 'archived',
      counts: { reopenCount: 1, returnCount: 1, extensionCount: 1 },
    });

    // 考核评价: every transition counted into the daily aggregates, so the supervisor's rates move.
    const metrics = (await http(stack, 'GET', '/api/supervisor/metrics', undefined, SUPERVISOR)).json;
    expect(metrics.total.counters.received).toBeGreaterThanOrEqual(1);
    expect(metrics.total.counters.closed).toBeGreaterThanOrEqual(1);
    expect(metrics.total.counters.followUps).toBeGreaterThanOrEqual(1);
    expect(metrics.total.counters.satisfied).toBeGreaterThanOrEqual(1);

    // The trace (全要素留痕): every step, in order, with who, from and to.
    const trail = (await http(stack, 'GET', `/api/supervisor/cases/${tn}`, undefined, SUPERVISOR)).json.history;
    expect(trail.map((h: { action: string }) => h.action)).toEqual([
      'receive',
      'dispatch',
      'requestReturn',
      'approveReturn',
      'sign',
      'contact',
      'citizenUpdate',
      'requestExtension',
      'approveExtension',
      'resolve',
      'approveClosure',
      'recordFollowUp',
      'sign',
      'resolve',
      'approveClosure',
      'recordFollowUp',
      'archive',
    ]);
    expect(trail[2]).toMatchObject({
      actor: { role: 'department', id: 'chengguan-clerk' },
      from: 'dispatched',
      to: 'returnRequested',
    });
    expect(trail[3]).toMatchObject({ actor: { role: 'supervisor', id: 'sup-001' }, department: 'gongdian' });
    expect(trail.map((h: { version: number }) => h.version)).toEqual(trail.map((_: unknown, i: number) => i + 1));

    // The citizen's page at the end: public steps only, no staff ids, internal steps or contact details.
    page = (await http(stack, 'GET', `/api/requests/${tn}?token=${token}`)).json;
    expect(page).toMatchObject({ status: 'closed', statusLabel: '已办结', actions: [] });
    expect(page.history.map((h: { label: string }) => h.label)).toEqual([
      '受理',
      '派单',
      '改派',
      '签收',
      '先行联系',
      '市民补充',
      '办理时限延长',
      '办结反馈',
      '回访（未解决，重办）',
      '签收',
      '办结反馈',
      '回访（办结）',
      '归档',
    ]);
    const json = JSON.stringify(page);
    for (const hidden of [
      'chengguan-clerk',
      'gongdian-clerk',
      'sup-001',
      PHONE,
      '不属本单位职责',
      '需更换电缆',
      '已安排抢修班组',
    ]) {
      expect(json).not.toContain(hidden);
    }
    // Nothing else was queued for anyone.
    await stack.drain();
    for (const q of ['dept-chengguan', 'dept-gongdian', 'supervisors']) expect(await receive(q, 0), q).toEqual([]);
  });

  it('should chase (催办) a department by hand: a 【督办】 note in the trace and Case.Chased on its queue', async () => {
    // Prepare
    const tn = await submit(
      'lifecycle-chase-0001',
      '人行道地砖松动',
      '人民西路12号门前人行道地砖松动翘起，老人差点摔倒。',
    );
    await take('dept-chengguan', 1);
    // Act
    const chased = await sup(tn, 'chase', { text: '群众再次来电，请今天内处理' });
    // Assess
    expect(chased.status).toBe(200);
    expect(chased.json.chased).toBe(true);
    const [toDept] = await take('dept-chengguan', 1);
    expect(toDept).toMatchObject({
      'detail-type': 'Case.Chased',
      detail: { caseId: tn, department: 'chengguan', manual: true, text: '群众再次来电，请今天内处理' },
    });
    const supervisorCopies = await take('supervisors', 1);
    expect(supervisorCopies[0]?.['detail-type']).toBe('Case.Chased');
    const detail = await http(stack, 'GET', `/api/dept/cases/${tn}`, undefined, CHENGGUAN);
    expect(JSON.stringify(detail.json)).toContain('【督办】群众再次来电，请今天内处理');
    // The citizen never sees the internal note.
    const page = (await http(stack, 'GET', `/api/requests/${tn}`)).json;
    expect(JSON.stringify(page)).not.toContain('督办');
    // A case no department holds cannot be chased.
    expect((await sup('20200101000001', 'chase')).status).toBe(404);
  });

  it('should let exactly one of concurrent transitions on one case win; the others get 409 CONFLICT', async () => {
    // Prepare
    const tn = await submit('lifecycle-race-0001', '井盖缺失', '兰竹路5号路口的井盖不见了，很危险，请尽快处理。');
    await take('dept-chengguan', 1);
    // Act: four signs and four returns from the same version at once.
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        i % 2 === 0
          ? dept(CHENGGUAN, tn, 'sign', { expectedVersion: 1 })
          : dept(CHENGGUAN, tn, 'return', { reason: '非本单位职责', expectedVersion: 1 }),
      ),
    );
    // Assess
    const won = results.filter((r) => r.status === 200);
    const lost = results.filter((r) => r.status !== 200);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) expect(r.json.error).toMatchObject({ code: 'CONFLICT', details: { version: 2 } });
    const c = (await http(stack, 'GET', `/api/supervisor/cases/${tn}`, undefined, SUPERVISOR)).json;
    expect(c).toMatchObject({ version: 2, state: won[0]?.json.case.state });
    expect(c.history).toHaveLength(3);
  });
});
