/**
 * The reconciliation (core/reconcile.ts) and the operator's tools (`cityloop verify`, `cityloop dlq`) over the fakes:
 * each kind of violation is found, a clean store passes, the DLQ tools mask citizens and move messages safely.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CaseFacts, checkQueues, type ReportFacts, reconcile, tallyAccepted } from '#core/reconcile.ts';
import { run as dlq, targetsOfEvent } from '../../../cli/commands/dlq.ts';
import { run as verify } from '../../../cli/commands/verify.ts';
import { runCli, submissions, TABLE, World } from './world.ts';

const NOW = new Date('2025-11-28T12:00:00+08:00');
const report = (tn: string, extra: Partial<ReportFacts> = {}): ReportFacts => ({
  trackingNo: tn,
  idemKey: `web#key:${tn}`,
  acceptedAt: '2025-11-28T10:00:00.000+08:00',
  ...extra,
});
const kase = (id: string, extra: Partial<CaseFacts> = {}): CaseFacts => ({
  caseId: id,
  trackingNo: id,
  version: 1,
  announcedVersion: 1,
  updatedAt: '2025-11-28T10:00:01.000+08:00',
  state: 'dispatched',
  department: 'chengguan',
  reporters: [id],
  ...extra,
});

describe('Function: reconcile', () => {
  it('should settle own cases and repeats attached to another case', () => {
    // Prepare
    const reports = [report('20251128000001'), report('20251128000002', { caseId: '20251128000001' })];
    const cases = [kase('20251128000001', { reporters: ['20251128000001', '20251128000002'] })];
    // Act
    const rec = reconcile(reports, cases, { now: NOW });
    // Assess
    expect(rec.violations).toEqual([]);
    expect(rec.settled).toBe(2);
    expect(rec.caseOf.get('20251128000002')).toBe('20251128000001');
  });

  it('should tell a report still waiting for triage (pending) from one whose case never came (violation)', () => {
    const young = report('20251128000003', { acceptedAt: '2025-11-28T11:55:00.000+08:00' });
    const rec = reconcile([report('20251128000001'), young], [], { now: NOW, graceMinutes: 15 });
    expect(rec.pending).toEqual([{ trackingNo: '20251128000003', acceptedAt: young.acceptedAt }]);
    expect(rec.violations.map((v) => [v.kind, v.trackingNo])).toEqual([['REPORT_WITHOUT_CASE', '20251128000001']]);
  });

  it('should find a report claimed by two cases, a shared tracking number and a case without its report', () => {
    // Prepare: report 2 is attached to case 1 but also opened its own case; report 3 is listed by cases 1 and 4.
    const reports = [
      report('20251128000001'),
      report('20251128000002', { caseId: '20251128000001' }),
      report('20251128000003'),
      report('20251128000004'),
      report('20251128000004', { idemKey: 'web#key:other' }),
    ];
    const cases = [
      kase('20251128000001', { reporters: ['20251128000001', '20251128000002', '20251128000003'] }),
      kase('20251128000002'),
      kase('20251128000003'),
      kase('20251128000004', { reporters: ['20251128000004', '20251128000003'] }),
      kase('20251128000009'),
    ];
    // Act
    const kinds = reconcile(reports, cases, { now: NOW }).violations.map(
      (v) => `${v.kind} ${v.trackingNo ?? v.caseId}`,
    );
    // Assess
    expect(kinds.sort()).toEqual(
      [
        'CASE_WITHOUT_REPORT 20251128000009',
        'REPORT_ON_TWO_CASES 20251128000002',
        'REPORT_ON_TWO_CASES 20251128000003',
        'TRACKING_NO_REUSED 20251128000004',
      ].sort(),
    );
  });

  it('should list announcements owed, and count them as violations only once overdue', () => {
    const cases = [
      kase('20251128000001', { version: 3, announcedVersion: 2 }),
      kase('20251128000002', { version: 2, announcedVersion: 1, updatedAt: '2025-11-28T11:59:00.000+08:00' }),
    ];
    const rec = reconcile([report('20251128000001'), report('20251128000002')], cases, { now: NOW });
    expect(rec.owed.map((o) => [o.caseId, o.overdue])).toEqual([
      ['20251128000001', true],
      ['20251128000002', false],
    ]);
    expect(rec.violations.map((v) => v.kind)).toEqual(['ANNOUNCEMENT_OWED']);
  });

  it('should tally lost and duplicated tracking numbers of a client', () => {
    const reports = [report('20251128000001'), report('20251128000002')];
    const rec = reconcile(reports, [kase('20251128000001')], { now: NOW });
    const tally = tallyAccepted(rec, reports, [
      { trackingNo: '20251128000001', submission: 'a' },
      { trackingNo: '20251128000002', submission: 'b' },
      { trackingNo: '20251128000007', submission: 'a' },
    ]);
    expect(tally.lost.sort()).toEqual(['20251128000002', '20251128000007']);
    expect(tally.duplicated.sort()).toEqual(['20251128000001', '20251128000007']);
  });

  it('should find misrouted, stale and unknown queue messages and count repeats', () => {
    const cases = new Map([
      ['A', kase('A', { department: 'chengguan' })],
      ['B', kase('B', { department: 'zhujian' })],
    ]);
    const check = checkQueues(
      [
        {
          queueId: 'dept-chengguan',
          queueDepartment: 'chengguan',
          eventId: 'A:1',
          caseId: 'A',
          department: 'chengguan',
        },
        {
          queueId: 'dept-chengguan',
          queueDepartment: 'chengguan',
          eventId: 'A:1',
          caseId: 'A',
          department: 'chengguan',
        },
        { queueId: 'dept-chengguan', queueDepartment: 'chengguan', eventId: 'B:1', caseId: 'B', department: 'zhujian' },
        {
          queueId: 'dept-chengguan',
          queueDepartment: 'chengguan',
          eventId: 'B:0',
          caseId: 'B',
          department: 'chengguan',
        },
        {
          queueId: 'dept-chengguan',
          queueDepartment: 'chengguan',
          eventId: 'Z:1',
          caseId: 'Z',
          department: 'chengguan',
        },
      ],
      cases,
    );
    expect(check.repeats).toBe(1);
    expect(check.misrouted.map((m) => m.eventId)).toEqual(['B:1']);
    expect(check.stale.map((m) => m.eventId)).toEqual(['B:0']);
    expect(check.unknown.map((m) => m.eventId)).toEqual(['Z:1']);
  });
});

describe('Command: cityloop verify and cityloop dlq (over the in-memory AWS)', () => {
  let w: World;
  beforeEach(async () => {
    w = await new World().start();
    for (const s of submissions(6, 'v')) await w.submit(s);
    await w.pump();
  });
  afterEach(() => w.stop());

  it('should pass a clean store and exit 1 naming each planted violation', async () => {
    // Assess: clean
    const clean = await runCli(verify, ['--table', TABLE, '--json']);
    expect(clean.code).toBe(0);
    const summary = JSON.parse(clean.stdout);
    expect(summary).toMatchObject({ ok: true, reports: 6, violations: [] });
    // Prepare: lose one case item, forge a second case claiming another report.
    const [first, second] = w.ddb.itemsOf('CASE#');
    w.ddb.items.delete(`${first!.pk}\u0000CASE`);
    const doc = JSON.parse(String(second!.doc));
    w.ddb.items.set('CASE#FORGED\u0000CASE', {
      ...second!,
      pk: 'CASE#FORGED',
      doc: JSON.stringify({ ...doc, caseId: 'FORGED', reporters: doc.reporters }),
    });
    // Act
    const res = await runCli(verify, ['--table', TABLE, '--grace', '0']);
    // Assess
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`REPORT_WITHOUT_CASE 诉求 ${String(first!.pk).slice(5)}`);
    expect(res.stdout).toMatch(/REPORT_ON_TWO_CASES .*FORGED/);
    expect(res.stdout).toMatch(/✗ 诉求 reports 6/);
  });

  it('should re-queue a report whose case is missing with --repair, and triage it into the same case id', async () => {
    // Prepare
    const [c] = w.ddb.itemsOf('CASE#');
    w.ddb.items.delete(`${c!.pk}\u0000CASE`);
    // Act
    const repaired = await runCli(verify, ['--table', TABLE, '--grace', '0', '--repair']);
    await w.pump();
    // Assess
    expect(repaired.stdout).toContain(`requeued ${String(c!.pk).slice(5)}`);
    expect((await runCli(verify, ['--table', TABLE, '--grace', '0'])).code).toBe(0);
    expect(w.ddb.itemsOf('CASE#').map((x) => x.pk)).toContain(c!.pk);
  });

  it('should recount the daily aggregates from the cases with --metrics, name each difference and repair it', async () => {
    // Assess: what triage counted agrees with a recount
    const clean = await runCli(verify, ['--table', TABLE, '--grace', '0', '--metrics', '--json']);
    expect(clean.code).toBe(0);
    const summary = JSON.parse(clean.stdout);
    expect(summary.metrics).toMatchObject({ cases: summary.cases, mismatches: [], unsettled: 0 });
    expect(summary.metrics.items).toBeGreaterThan(0);
    // Prepare: one item counted two reports too many (a double count), another lost altogether
    const [inflated, lost] = w.ddb.itemsOf('AGGMON#');
    const was = Number(inflated!.received ?? 0);
    inflated!.received = was + 2;
    w.ddb.items.delete(`${lost!.pk}\u0000${lost!.sk}`);
    // Act
    const found = await runCli(verify, ['--table', TABLE, '--grace', '0', '--metrics']);
    const repaired = await runCli(verify, ['--table', TABLE, '--grace', '0', '--metrics', '--repair']);
    const after = await runCli(verify, ['--table', TABLE, '--grace', '0', '--metrics']);
    // Assess
    expect(found.code).toBe(1);
    expect(found.stdout).toContain(`received 存 stored ${was + 2} ≠ 应 recount ${was}`);
    expect(found.stdout.match(/AGGREGATE_MISMATCH/g)).toHaveLength(2);
    expect(repaired.stdout.match(/↻ recounted /g)).toHaveLength(2);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/不符 mismatched 0/);
  });

  it('should flag an event in another department’s queue with --queues', async () => {
    // Prepare: a Case.Dispatched addressed to zhujian, sitting in chengguan's queue.
    const [c] = w.ddb.itemsOf('CASE#');
    const caseId = String(c!.pk).slice(5);
    w.sqs.send(
      'dept-chengguan',
      JSON.stringify({
        'detail-type': 'Case.Dispatched',
        detail: { eventId: `${caseId}:9:Case.Dispatched`, caseId, department: 'zhujian' },
      }),
    );
    // Act
    const res = await runCli(verify, ['--table', TABLE, '--queues', '--json']);
    // Assess
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout);
    expect(out.queues.misrouted).toEqual([
      expect.objectContaining({ queueId: 'dept-chengguan', department: 'zhujian', caseId }),
    ]);
    // Peeking leaves every message where it was (visible again a second later).
    w.sqs.now += 1000;
    expect(w.sqs.receive('dept-chengguan', 10).length).toBeGreaterThan(0);
  });

  it('should list DLQ depth with citizen data masked in the samples', async () => {
    // Prepare
    w.sqs.send(
      'intake-dlq',
      JSON.stringify({
        report: {
          trackingNo: '20251128009999',
          request: {
            citizen: {
              phone: '+8613912345678',
              email: 'zhang.san@example.com',
              openid: 'oAbCdEfGhIjKlMnOpQrStUvWxYz1',
              name: '张三丰',
            },
            text: '我的电话是13912345678，邮箱 zhang.san@example.com，请回电',
          },
        },
      }),
    );
    // Act
    const res = await runCli(dlq, ['list', '--json']);
    // Assess
    expect(res.code).toBe(0);
    const rows = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.find((r) => r.queue === 'intake-dlq')).toMatchObject({ visible: 1, source: 'intake' });
    expect(rows.find((r) => r.queue === 'rule-dlq')).toMatchObject({ visible: 0 });
    expect(res.stdout).not.toMatch(/13912345678|zhang\.san|oAbCdEfGhIjKlMnOpQrStUvWxYz1|张三丰/);
    expect(res.stdout).toContain('****5678');
    // Sampling moved nothing.
    expect(w.sqs.bodies('intake-dlq')).toHaveLength(1);
  });

  it('should redrive a DLQ to its source (send first, delete after), and move nothing on a dry run', async () => {
    // Prepare
    for (let i = 0; i < 13; i++) w.sqs.send('dept-zhujian-dlq', JSON.stringify({ detail: { eventId: `x:${i}` } }));
    // Act 1: dry run
    const dry = await runCli(dlq, ['redrive', '--queue', 'dept-zhujian-dlq', '--dry-run', '--json']);
    // Assess 1
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, moved: 13 });
    expect(w.sqs.bodies('dept-zhujian-dlq')).toHaveLength(13);
    expect(w.sqs.bodies('dept-zhujian')).toHaveLength(0);
    // Act 2: the sends of the first batch are refused: nothing of it may be deleted from the DLQ.
    w.sqs.now += 60_000;
    let refusals = 1;
    w.sqs.refuseEntries = (q) => (q === 'dept-zhujian' && refusals-- > 0 ? [0, 1] : []);
    const first = await runCli(dlq, ['redrive', '--queue', 'dept-zhujian-dlq', '--max', '5']);
    expect(first.stderr).toContain('not accepted');
    const movedFirst = w.sqs.bodies('dept-zhujian').length;
    expect(movedFirst + w.sqs.bodies('dept-zhujian-dlq').length).toBe(13);
    expect(movedFirst).toBe(3);
    // Act 3: redrive the rest.
    w.sqs.now += 120_000;
    const rest = await runCli(dlq, ['redrive', '--queue', 'dept-zhujian-dlq', '--json']);
    expect(JSON.parse(rest.stdout)).toMatchObject({ moved: 10 });
    expect(w.sqs.bodies('dept-zhujian')).toHaveLength(13);
    expect(w.sqs.bodies('dept-zhujian-dlq')).toHaveLength(0);
  });

  it('should redrive undeliverable events to the queue their rule targets (TARGET_ARN on AWS, else the pattern)', async () => {
    // Prepare
    const event = (department: string) =>
      JSON.stringify({
        version: '0',
        id: 'e',
        source: 'cityloop.cases',
        'detail-type': 'Case.Dispatched',
        account: '0',
        time: '2025-11-28T00:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail: { eventId: `c-${department}:1:Case.Dispatched`, caseId: `c-${department}`, department },
      });
    w.sqs.send('rule-dlq', event('zhujian'));
    w.sqs.send('rule-dlq', event('chengguan'), { TARGET_ARN: w.sqs.queues.get('supervisors')!.arn });
    w.sqs.send('rule-dlq', 'not an event');
    // Act
    const res = await runCli(dlq, ['redrive', '--queue', 'rule-dlq', '--json']);
    // Assess
    expect(JSON.parse(res.stdout)).toMatchObject({ moved: 2, unroutable: 1 });
    expect(w.sqs.bodies('dept-zhujian')).toContain(event('zhujian'));
    expect(w.sqs.bodies('supervisors')).toContain(event('chengguan'));
    expect(w.sqs.bodies('rule-dlq')).toEqual(['not an event']);
    expect(targetsOfEvent(w.topology, event('zhujian'))).toEqual(['dept-zhujian']);
  });
});
