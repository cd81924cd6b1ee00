/**
 * The SLA engine wired into the local stack, on an injected clock: triage gives each case its deadlines and its
 * due-index key; the sweep (invoked as the schedule would) warns, breaches and chases through the sparse GSI into the
 * supervisors' queue; an extension, a return with re-dispatch and closures on time and late move the deadlines and
 * the daily aggregates; `cityloop report` prints the rates. Lifecycle steps are applied as the case service applies
 * them (machine → SLA engine → one conditional write → metrics).
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInstant } from '#core/calendar/shanghai-time.ts';
import type { Case } from '#core/case.ts';
import type { Action } from '#core/lifecycle/actions.ts';
import type { Actor } from '#core/lifecycle/types.ts';
import { recordCaseMetrics } from '#core/sla/case-metrics.ts';
import { triageDeadlines } from '#core/sla/case-sla.ts';
import type { SlaRecord } from '#core/sla/deadlines.ts';
import { caseDueKey, PROVISIONAL_ALARM_FIELD } from '#core/sla/due-key.ts';
import { summarize } from '#core/sla/metrics.ts';
import type { SlaSweepResult } from '#core/sla/sweep-task.ts';
import { getRuntime, type Runtime, setRuntime } from '#functions/lib/runtime.ts';
import type { LocalStack } from '#local/stack.ts';
import { cityloop, eventually, http, startTestStack } from '../helpers/local-stack.ts';
import { dept, step, supervisor } from '../unit/sla/case-fixtures.ts';

let clockMs = parseInstant('2025-11-03T09:00:00+08:00');
const setClock = (iso: string) => {
  clockMs = parseInstant(iso);
};

interface SupervisorMessage {
  type: string;
  caseId: string;
  kind?: string;
  eventId: string;
  department?: string;
  generation?: number;
}

describe('Local stack: SLA deadlines, sweep, supervision and metrics', () => {
  let stack: LocalStack;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let rt: Runtime;
  let sqs: SQSClient;
  const received: SupervisorMessage[] = [];

  beforeAll(async () => {
    ({ stack, dataDir, cleanup } = await startTestStack());
    setRuntime({ clock: { now: () => new Date(clockMs) } });
    rt = getRuntime();
    sqs = new SQSClient({
      endpoint: stack.info.endpoints.sqs,
      region: stack.info.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
  afterAll(async () => {
    await cleanup?.();
  });

  /** Runs the scheduled sweep at `iso` (the handler takes its instant from the runtime clock). */
  const sweepAt = async (iso: string): Promise<SlaSweepResult> => {
    setClock(iso);
    const out = (await stack.invoke('sweep', {})) as { sla: SlaSweepResult };
    return out.sla;
  };

  /** Drains the supervisors' queue into `received` until `until` holds (SQS ReceiveMessage, then delete). */
  const readSupervisors = async (until: (all: SupervisorMessage[]) => boolean): Promise<void> => {
    await eventually(async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.info.queues.supervisors,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      for (const m of out.Messages ?? []) {
        const e = JSON.parse(m.Body ?? '{}') as { 'detail-type': string; detail: Record<string, unknown> };
        received.push({
          type: e['detail-type'],
          caseId: String(e.detail.caseId),
          kind: e.detail.kind as string | undefined,
          eventId: String(e.detail.eventId),
          department: e.detail.department as string | undefined,
          generation: e.detail.generation as number | undefined,
        });
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: stack.info.queues.supervisors, ReceiptHandle: m.ReceiptHandle }),
        );
      }
      return until(received);
    });
  };
  /** The events a case sent to the supervisors, sorted (a standard queue keeps no order). */
  const of = (caseId: string) =>
    received
      .filter((m) => m.caseId === caseId)
      .map((m) => `${m.type}:${m.kind ?? ''}`)
      .sort();

  const opened = new Map<string, Case>();

  /** A case as triage opens it: dispatched to `department` 5 minutes after receipt, with its SLA record. */
  const caseFor = (
    id: string,
    department: string,
    category: string,
    receivedAt: string,
    dispatchedAt: string,
  ): Case => {
    const base: Case = {
      caseId: id,
      trackingNo: id,
      state: 'dispatched',
      version: 1,
      department,
      category,
      nature: '投诉',
      urgency: 'normal',
      channel: 'hotline',
      title: `测试工单 ${id}`,
      text: '坪山街道六和社区测试诉求',
      citizen: { phone: '+8613800138000' },
      receivedAt,
      updatedAt: dispatchedAt,
      dispatchedAt,
      classification: { category, confidence: 0.9, decision: 'auto', reason: 'test' },
      reportCount: 1,
      reporters: [],
      announcedVersion: 1,
      history: [],
    };
    return {
      ...base,
      deadlines: triageDeadlines(base, { slaPolicy: 'standard' }) as unknown as Record<string, unknown>,
    };
  };

  /** Opens a case received Mon 2025-11-03 09:00, dispatched 09:05, and counts it as triage does. */
  const open = async (id: string, department: string, category: string): Promise<Case> => {
    const c = caseFor(id, department, category, '2025-11-03T09:00:00.000+08:00', '2025-11-03T09:05:00.000+08:00');
    expect((await rt.store.createCase(c)).created).toBe(true);
    await recordCaseMetrics(rt.store, null, c);
    opened.set(id, c);
    return c;
  };

  /** One lifecycle step as the case service applies it: machine + SLA engine, one conditional write, metrics. */
  const act = async (caseId: string, action: Action, actor: Actor, iso: string): Promise<Case> => {
    setClock(iso);
    const before = (await rt.store.getCase(caseId)) as Case;
    const next = { ...step(before, action, actor, iso), pendingEvents: [] };
    next.announcedVersion = next.version;
    expect(await rt.store.replaceCase(next, before.version)).toBe(true);
    await recordCaseMetrics(rt.store, before, next);
    return next;
  };

  const record = async (caseId: string) => (await rt.store.getCase(caseId))?.deadlines as unknown as SlaRecord;

  let web = '';

  it('should give a triaged case its deadlines and its due-index key', async () => {
    // Act
    setClock('2025-11-03T09:00:00+08:00');
    const posted = await http(stack, 'POST', '/api/requests', {
      title: '路灯不亮',
      text: '和平路88号门口的路灯已经坏了一个星期，晚上很黑，请尽快维修。',
      citizen: { phone: '13800138000' },
      location: { address: '和平路88号' },
    });
    web = posted.json.trackingNo as string;
    const c = await eventually(async () => rt.store.getCase(web));
    // Assess
    expect(c.state).toBe('dispatched');
    const r = c.deadlines as unknown as SlaRecord;
    expect(r.receivedAt).toBe('2025-11-03T09:00:00.000+08:00');
    expect(r.dispatchedAt).toBe('2025-11-03T09:00:00.000+08:00');
    expect(r.signDue).toBe('2025-11-03T15:00:00.000+08:00');
    expect(r.resolveDue).toBe('2025-11-10T23:59:59.999+08:00');
    expect(caseDueKey(c)?.sk).toBe(`2025-11-03T06:00:00.000Z#${web}#1`);
  });

  it('should warn, breach and chase into the supervisors queue, each once', async () => {
    // Prepare
    await open('K1', 'zhujian', 'ZF-01');
    await open('K2', 'zhujian', 'ZF-01');
    await open('K3', 'zhujian', 'ZF-01');
    await act('K2', { type: 'sign' }, dept('zhujian'), '2025-11-03T10:00:00+08:00');
    await act('K2', { type: 'contact' }, dept('zhujian'), '2025-11-03T10:30:00+08:00');
    await act(
      'K3',
      { type: 'requestReturn', reason: '不属于本单位职责' },
      dept('zhujian'),
      '2025-11-03T10:00:00+08:00',
    );
    const moved = await act(
      'K3',
      { type: 'approveReturn', department: 'chengguan', reason: '改派城管' },
      supervisor,
      '2025-11-03T11:00:00+08:00',
    );
    expect((moved.deadlines as unknown as SlaRecord).signDue).toBe('2025-11-03T17:00:00.000+08:00');
    // Act
    const early = await sweepAt('2025-11-03T14:00:30+08:00');
    const warn = await sweepAt('2025-11-03T14:05:00+08:00');
    const repeat = await sweepAt('2025-11-03T14:05:30+08:00');
    const breach = await sweepAt('2025-11-03T15:06:00+08:00');
    const restarted = await sweepAt('2025-11-03T16:01:00+08:00');
    await act('K3', { type: 'sign' }, dept('chengguan'), '2025-11-03T16:30:00+08:00');
    await act('K3', { type: 'contact' }, dept('chengguan'), '2025-11-03T16:40:00+08:00');
    const chase = await sweepAt('2025-11-04T10:06:00+08:00');
    // Assess
    expect(early).toMatchObject({ fired: 1 }); // the web case: its sign warning at 14:00
    expect(warn).toMatchObject({ fired: 1 }); // K1 only: K2 signed, K3's clock restarted at 11:00
    expect(repeat).toMatchObject({ checked: 0, emitted: 0 });
    expect(breach.fired).toBe(2); // K1 and the web case
    expect(restarted.fired).toBe(1); // K3's new sign warning (generation 2)
    expect(chase.fired).toBe(2);
    await readSupervisors((all) => all.filter((m) => m.caseId === 'K1').length >= 3);
    await readSupervisors((all) => all.some((m) => m.caseId === 'K3'));
    expect(of('K1')).toEqual(['Case.Chased:sign', 'Case.SlaBreached:sign', 'Case.SlaWarning:sign']);
    expect(of('K2')).toEqual([]);
    expect(received.filter((m) => m.caseId === 'K3')).toEqual([
      {
        type: 'Case.SlaWarning',
        caseId: 'K3',
        kind: 'sign',
        eventId: 'K3:sla:2:sign:1',
        department: 'chengguan',
        generation: 2,
      },
    ]);
    await readSupervisors((all) => all.filter((m) => m.caseId === web).length >= 3);
    expect(of(web)).toEqual(['Case.Chased:sign', 'Case.SlaBreached:sign', 'Case.SlaWarning:sign']);
    const k1 = (await rt.store.getCase('K1')) as Case;
    expect(k1.version).toBe(1);
    expect((k1.deadlines as unknown as SlaRecord).progress.sign).toBe(3);
    expect(k1.history.map((h) => h.details?.sla)).toEqual(['warn', 'breach', 'chase']);
    // 催办 reaches the department itself too, on its own queue.
    const deptTypes: string[] = [];
    await eventually(async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.info.queues['dept-zhujian'],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      for (const m of out.Messages ?? []) {
        const e = JSON.parse(m.Body ?? '{}') as { 'detail-type': string; detail: { caseId?: string } };
        if (e.detail.caseId === 'K1') deptTypes.push(e['detail-type']);
      }
      return deptTypes.includes('Case.Chased');
    });
    expect(deptTypes).toEqual(expect.arrayContaining(['Case.SlaWarning', 'Case.SlaBreached', 'Case.Chased']));
  });

  it('should move the resolve clock with an approved extension and leave the old timer stale', async () => {
    // Prepare: K1 now signs (late), answers and is closed on time.
    await act('K1', { type: 'sign' }, dept('zhujian'), '2025-11-04T11:00:00+08:00');
    await act('K1', { type: 'contact' }, dept('zhujian'), '2025-11-04T11:10:00+08:00');
    await act('K1', { type: 'resolve', text: '已维修' }, dept('zhujian'), '2025-11-06T10:00:00+08:00');
    await act('K1', { type: 'approveClosure' }, supervisor, '2025-11-06T11:00:00+08:00');
    await act(
      'K1',
      { type: 'recordFollowUp', satisfaction: '满意', resolved: true },
      supervisor,
      '2025-11-07T10:00:00+08:00',
    );
    await act(
      'K2',
      { type: 'requestExtension', reason: '需协调物业公司', newDueAt: '2025-11-14T23:59:59.999+08:00' },
      dept('zhujian'),
      '2025-11-07T10:00:00+08:00',
    );
    await act('K2', { type: 'approveExtension' }, supervisor, '2025-11-07T11:00:00+08:00');
    // Act: Monday the old resolve warning of K2 (generation 1) is due and must do nothing; K3's is real. K3 is then
    // resolved late; Friday K2's warning comes at its new due day.
    const monday = await sweepAt('2025-11-10T00:01:00+08:00');
    await act('K3', { type: 'resolve', text: '已修复' }, dept('chengguan'), '2025-11-12T10:00:00+08:00');
    await act('K3', { type: 'approveClosure' }, supervisor, '2025-11-12T11:00:00+08:00');
    await act(
      'K3',
      { type: 'recordFollowUp', satisfaction: '满意', resolved: true },
      supervisor,
      '2025-11-13T10:00:00+08:00',
    );
    const friday = await sweepAt('2025-11-14T00:01:00+08:00');
    // Assess
    const k2 = await record('K2');
    expect(k2.generation).toBe(2);
    expect(k2.resolveDue).toBe('2025-11-14T23:59:59.999+08:00');
    await readSupervisors((all) => all.some((m) => m.caseId === 'K2'));
    await readSupervisors((all) => all.some((m) => m.caseId === 'K3' && m.kind === 'resolve'));
    expect(of('K2')).toEqual(['Case.SlaWarning:resolve']);
    expect(received.find((m) => m.caseId === 'K2')?.eventId).toBe('K2:sla:2:resolve:1');
    expect(of('K3')).toEqual(['Case.SlaWarning:resolve', 'Case.SlaWarning:sign']);
    expect(received.find((m) => m.caseId === 'K3' && m.kind === 'resolve')?.eventId).toBe('K3:sla:2:resolve:1');
    expect(of('K1')).toHaveLength(3);
    // Besides K3 on Monday and K2 on Friday, only the open web case fires (one clock per run).
    expect(monday.fired).toBe(2);
    expect(friday.fired).toBe(2);
  });

  it('should close K2 on time after K3 closed late, and count them in the daily aggregates', async () => {
    // Act
    await act('K2', { type: 'resolve', text: '已协调物业维修' }, dept('zhujian'), '2025-11-14T10:00:00+08:00');
    await act('K2', { type: 'approveClosure' }, supervisor, '2025-11-14T11:00:00+08:00');
    await act(
      'K2',
      { type: 'recordFollowUp', satisfaction: '基本满意', resolved: true },
      supervisor,
      '2025-11-17T10:00:00+08:00',
    );
    const aggregates = await rt.store.listAggregates('2025-11-01', '2025-11-30');
    const [all] = summarize(aggregates, { from: '2025-11-01', to: '2025-11-30' });
    const byDept = Object.fromEntries(
      summarize(aggregates, { from: '2025-11-01', to: '2025-11-30', by: 'department' }).map((r) => [
        r.group,
        r.counters,
      ]),
    );
    // Assess (hand-computed; the web case is open: due to sign, contact and close, none done):
    // K1 signed late (11-04 11:00 > 11-03 15:05), contacted on time, resolved 11-06 10:00 ≤ 11-10: 3 d 1 h, 3 wd.
    // K2 on time everywhere, resolved 11-14 10:00 within its extension: 11 d 1 h, 9 working days.
    // K3 re-dispatched: signed and contacted on time, resolved 11-12 10:00 > 11-10: late; 9 d 1 h, 7 wd.
    expect(all?.counters).toMatchObject({
      received: 4,
      sameDayClosed: 0,
      dueToSign: 4,
      signedOnTime: 2,
      dueToContact: 4,
      contactedOnTime: 3,
      dueToClose: 4,
      dueClosed: 3,
      dueClosedOnTime: 2,
      closed: 3,
      handlingMs: (3 * 24 + 1 + 11 * 24 + 1 + 9 * 24 + 1) * 3_600_000,
      handlingWorkingDays: 19,
      reopenedClosed: 0,
      followUps: 3,
      followUpResolved: 3,
      satisfied: 2,
      basicallySatisfied: 1,
    });
    expect(byDept.zhujian).toMatchObject({ received: 2, dueClosedOnTime: 2 });
    expect(byDept.chengguan).toMatchObject({ received: 2, dueClosed: 1, dueClosedOnTime: 0 });
  });

  it('should count a replayed transition once', async () => {
    // Prepare
    const c = opened.get('K2') as Case;
    const before = await rt.store.listAggregates('2025-11-01', '2025-11-30');
    // Act: the creation of K2 counted again (a retried triage), under its token K2@1.
    const applied = await recordCaseMetrics(rt.store, null, c);
    const after = await rt.store.listAggregates('2025-11-01', '2025-11-30');
    // Assess
    expect(applied).toBe(0);
    expect(after).toEqual(before);
  });

  it('should print the rates of the local data with cityloop report', async () => {
    // Act
    const table = await cityloop(['report', '--from', '2025-11-01', '--to', '2025-11-30'], {
      CITYLOOP_DATA_DIR: dataDir,
    });
    const json = await cityloop(
      ['report', '--from', '2025-11-01', '--to', '2025-11-30', '--by', 'department', '--format', 'json'],
      { CITYLOOP_DATA_DIR: dataDir },
    );
    // Assess
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('考核报表 2025-11-01 至 2025-11-30');
    // 办结率 3/4, 按时办结率 2/4, 当日清率 0/4, 签收及时率 2/4, 先行联系及时率 3/4.
    expect(table.stdout).toMatch(
      /合计\s+4\s+4\s+3\s+75\.00%\s+50\.00%\s+0\.00%\s+50\.00%\s+75\.00%\s+100\.00%\s+100\.00%/,
    );
    expect(table.stdout).toContain('年度目标 2025 (全市)');
    const report = JSON.parse(json.stdout);
    expect(report.rows.map((r: { group: string }) => r.group)).toEqual(['chengguan', 'zhujian']);
    expect(report.total.rates.closeRate).toBe(0.75);
  });

  it('should raise the provisional-calendar alarm once for a case whose deadline reaches past the calendar', async () => {
    // Prepare
    const p = caseFor('P1', 'zhujian', 'ZF-01', '2026-12-28T09:00:00.000+08:00', '2026-12-28T09:05:00.000+08:00');
    expect((p.deadlines as unknown as SlaRecord).provisional).toBe(true);
    await rt.store.createCase(p);
    // Act
    await sweepAt('2026-12-28T09:06:00+08:00');
    await sweepAt('2026-12-28T09:07:00+08:00');
    // Assess
    await readSupervisors((all) => all.some((m) => m.caseId === 'P1'));
    expect(of('P1')).toEqual(['Calendar.Provisional:']);
    const stored = (await rt.store.getCase('P1')) as Case;
    expect(stored[PROVISIONAL_ALARM_FIELD]).toBe((stored.deadlines as unknown as SlaRecord).calendarVersion);
  });
});
