import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '#core/calendar/working-calendar.ts';
import type { Case } from '#core/case.ts';
import type { BusEvent, Settled } from '#core/ports.ts';
import { defaultSlaEnv } from '#core/sla/case-sla.ts';
import { caseDueKey, dueShardPk, PROVISIONAL_ALARM_FIELD } from '#core/sla/due-key.ts';
import { type DueIndexKey, dueQueryUpperBound } from '#core/sla/sweep.ts';
import { type DueCursor, type DuePage, runSlaSweep, type SlaSweepPorts, sweepEntry } from '#core/sla/sweep-task.ts';
import officialFile from '../../../config/calendar/official-cn.json' with { type: 'json' };
import { settleInMemory } from '../../helpers/memory-settle.ts';
import { dept, makeCase, recordOf, standardRecord, step } from './case-fixtures.ts';

/** The table and its due GSI in memory: each stored case carries the key its writer computed (like `caseItem`). */
class MemoryTable implements SlaSweepPorts {
  readonly items = new Map<string, { c: Case; key: DueIndexKey | null }>();
  readonly published: BusEvent[] = [];
  failPublish = false;
  loseNextWrite = false;
  writes = 0;
  departmentName?: (id: string | undefined) => string | undefined;

  put(c: Case, key: DueIndexKey | null = caseDueKey(c)): void {
    this.items.set(c.caseId, { c: structuredClone(c), key });
  }

  case(id: string): Case {
    const c = this.items.get(id)?.c;
    if (!c) throw new Error(`no case ${id}`);
    return c;
  }

  async queryDue(shard: number, upperBound: string, limit: number, after?: DueCursor): Promise<DuePage> {
    const all = [...this.items.values()]
      .filter((i) => i.key && i.key.pk === dueShardPk(shard) && i.key.sk <= upperBound)
      .map((i) => ({ sk: i.key?.sk as string, caseId: i.c.caseId, version: i.c.version }))
      .sort((a, b) => (a.sk < b.sk ? -1 : 1));
    const start = after ? all.findIndex((e) => e.sk > String(after.sk)) : 0;
    const entries = start < 0 ? [] : all.slice(start, start + limit);
    const last = entries.at(-1);
    return { entries, cursor: entries.length === limit && last ? { sk: last.sk } : undefined };
  }

  async getCase(id: string): Promise<Case | undefined> {
    const i = this.items.get(id);
    return i ? structuredClone(i.c) : undefined;
  }

  async replaceCase(c: Case, expectedVersion: number): Promise<boolean> {
    if (this.loseNextWrite) {
      this.loseNextWrite = false;
      return false;
    }
    if (this.items.get(c.caseId)?.c.version !== expectedVersion) return false;
    this.writes++;
    this.put(c);
    return true;
  }

  async markSettled(id: string, version: number, settled: Settled): Promise<void> {
    settleInMemory(this.items.get(id)?.c, version, settled);
  }

  async publish(events: BusEvent[]): Promise<{ failed: number[] }> {
    if (this.failPublish) return { failed: events.map((_, i) => i) };
    this.published.push(...events);
    return { failed: [] };
  }

  types(): string[] {
    return this.published.map((e) => `${e.detailType}:${(e.detail.kind as string | undefined) ?? ''}`);
  }
}

const at = (iso: string) => new Date(iso);

describe('Function: runSlaSweep', () => {
  it('should warn, breach and chase the sign clock, each once, and record each step on the case', async () => {
    // Prepare
    const t = new MemoryTable();
    t.put(makeCase());
    // Act
    const before = await runSlaSweep(t, at('2025-11-03T14:00:00+08:00'));
    const warn = await runSlaSweep(t, at('2025-11-03T14:05:00+08:00'));
    const repeat = await runSlaSweep(t, at('2025-11-03T14:06:00+08:00'));
    await runSlaSweep(t, at('2025-11-03T15:06:00+08:00'));
    await runSlaSweep(t, at('2025-11-04T10:06:00+08:00'));
    // Assess
    expect(before.checked).toBe(0);
    expect(warn).toMatchObject({ checked: 1, emitted: 1, fired: 1 });
    expect(repeat.checked).toBe(0);
    expect(t.types()).toEqual(['Case.SlaWarning:sign', 'Case.SlaBreached:sign', 'Case.Chased:sign']);
    const [w, b, ch] = t.published;
    expect(w?.detail).toMatchObject({
      eventId: '20251103000001:sla:1:sign:1',
      caseId: '20251103000001',
      trackingNo: '20251103000001',
      department: 'zhujian',
      departmentName: undefined,
      title: '小区电梯故障',
      dueAt: '2025-11-03T15:05:00.000+08:00',
      overdueMs: -3_600_000,
    });
    expect(b?.detail.overdueMs).toBe(60_000);
    expect(ch?.detail).toMatchObject({ stage: 'chase', chaseNo: 1, timer: { kind: 'sign', step: 3 } });
    const c = t.case('20251103000001');
    expect(c.version).toBe(1);
    expect(recordOf(c).progress.sign).toBe(3);
    expect(c.history.map((h) => h.text)).toEqual([
      '时限预警: 签收时限 2025-11-03T15:05:00.000+08:00 将到期 (剩 1.0 小时)',
      '超期督办: 签收时限 2025-11-03T15:05:00.000+08:00 已到期',
      '催办 (第 1 次): 签收已超期 19.0 小时',
    ]);
    expect(c.history.every((h) => h.visibility === 'internal')).toBe(true);
  });

  it('should act only on the latest step of a clock when the sweep comes late', async () => {
    // Prepare
    const t = new MemoryTable();
    t.put(makeCase());
    // Act: Tue 17:00, past the sign warning, breach, chases 1 and 2 and the contact warning.
    const first = await runSlaSweep(t, at('2025-11-04T17:00:00+08:00'));
    const second = await runSlaSweep(t, at('2025-11-04T17:01:00+08:00'));
    // Assess
    expect(first.emitted).toBe(1);
    expect(second.emitted).toBe(1);
    expect(t.types()).toEqual(['Case.Chased:sign', 'Case.SlaWarning:contact']);
    expect(t.published[0]?.detail.chaseNo).toBe(2);
  });

  it('should do nothing for a stale entry: a clock that stopped, or a timer already acted on', async () => {
    // Prepare
    const t = new MemoryTable();
    const c = makeCase();
    const oldKey = caseDueKey(c) as DueIndexKey;
    const signed = step(c, { type: 'sign' }, dept('zhujian'), '2025-11-03T10:00:00.000+08:00');
    t.put(signed);
    // Act: the lagging index still shows the sign warning of the case as it was.
    const r = await sweepEntry(t, { sk: oldKey.sk, caseId: c.caseId, version: 1 }, at('2025-11-03T14:05:00+08:00'));
    // Assess
    expect(r.outcome).toBe('stale');
    expect(t.published).toEqual([]);
    expect(t.writes).toBe(0);
  });

  it('should re-send the same event id after a lost race, and nothing when the case moved', async () => {
    // Prepare
    const t = new MemoryTable();
    t.put(makeCase());
    t.loseNextWrite = true;
    // Act
    const lost = await runSlaSweep(t, at('2025-11-03T14:05:00+08:00'));
    const retried = await runSlaSweep(t, at('2025-11-03T14:06:00+08:00'));
    // Assess
    expect(lost.lost).toBe(1);
    expect(retried.fired).toBe(1);
    expect(t.published.map((e) => e.detail.eventId)).toEqual([
      '20251103000001:sla:1:sign:1',
      '20251103000001:sla:1:sign:1',
    ]);
  });

  it('should write nothing when the bus refuses, and fire on the next run', async () => {
    // Prepare
    const t = new MemoryTable();
    t.put(makeCase());
    t.failPublish = true;
    // Act
    const failed = await runSlaSweep(t, at('2025-11-03T14:05:00+08:00'));
    t.failPublish = false;
    const next = await runSlaSweep(t, at('2025-11-03T14:06:00+08:00'));
    // Assess
    expect(failed.failed).toBe(1);
    expect(next.fired).toBe(1);
    expect(t.types()).toEqual(['Case.SlaWarning:sign']);
  });

  it('should re-announce what the case still owes the bus, in the same call', async () => {
    // Prepare: triage wrote the case but never marked it announced.
    const t = new MemoryTable();
    t.put(makeCase({ announcedVersion: 0 }));
    // Act
    t.departmentName = (id) => (id === 'zhujian' ? '区住房和建设局' : undefined);
    const r = await runSlaSweep(t, at('2025-11-03T14:05:00+08:00'));
    // Assess
    expect(r.reannounced).toBe(1);
    expect(t.published.map((e) => e.detailType)).toEqual(['Case.Dispatched', 'Case.SlaWarning']);
    expect(t.published.map((e) => e.detail.departmentName)).toEqual(['区住房和建设局', '区住房和建设局']);
    expect(t.case('20251103000001').announcedVersion).toBe(1);
  });

  it('should raise the provisional-calendar alarm once, within a minute of the write', async () => {
    // Prepare
    const t = new MemoryTable();
    const record = standardRecord('2026-12-28T09:00:00.000+08:00', '2026-12-28T09:05:00.000+08:00');
    t.put(
      makeCase({
        caseId: 'P',
        trackingNo: 'P',
        receivedAt: '2026-12-28T09:00:00.000+08:00',
        dispatchedAt: '2026-12-28T09:05:00.000+08:00',
        deadlines: record as never,
      }),
    );
    // Act
    const first = await runSlaSweep(t, at('2026-12-28T09:06:00+08:00'), { coveredUntil: '2026-12-31' });
    const second = await runSlaSweep(t, at('2026-12-28T09:07:00+08:00'));
    // Assess
    expect(first).toMatchObject({ alarms: 1, emitted: 1 });
    expect(second.checked).toBe(0);
    expect(t.published.map((e) => e.detailType)).toEqual(['Calendar.Provisional']);
    expect(t.published[0]?.detail).toMatchObject({
      eventId: `P:calendar:${record.calendarVersion}`,
      coveredUntil: '2026-12-31',
    });
    expect(t.case('P')[PROVISIONAL_ALARM_FIELD]).toBe(record.calendarVersion);
  });

  it('should recompute provisional deadlines once the calendar covers the new year, then decide on them', async () => {
    // Prepare: received 2026-12-28 on a calendar ending 2026-12-31; next year's arrangement arrives as a supplement
    // (元旦 2027-01-01 a holiday, which the provisional Mon–Fri count had taken as a working day).
    const t = new MemoryTable();
    const record = standardRecord('2026-12-28T09:00:00.000+08:00', '2026-12-28T09:05:00.000+08:00');
    t.put(
      makeCase({
        caseId: 'P',
        trackingNo: 'P',
        receivedAt: '2026-12-28T09:00:00.000+08:00',
        dispatchedAt: '2026-12-28T09:05:00.000+08:00',
        deadlines: record as never,
        windows: { returnBy: null, dueAt: record.resolveDue, extensionLatest: record.extensionLatest },
      }),
    );
    const calendar = WorkingCalendar.create(officialFile, {
      version: 'test-2027',
      supplement: { source: 'test', until: '2027-12-31', holidays: { '2027-01-01': '元旦' }, workdays: {} },
    });
    const env = { ...defaultSlaEnv(), calendar };
    // Act
    const first = await runSlaSweep(t, at('2026-12-28T09:06:00+08:00'), { env });
    const second = await runSlaSweep(t, at('2026-12-28T14:05:00+08:00'), { env });
    // Assess
    const c = t.case('P');
    const r = recordOf(c);
    expect(first).toMatchObject({ recomputed: 1, emitted: 0 });
    expect(record.resolveDue).toBe('2027-01-04T23:59:59.999+08:00');
    expect(r).toMatchObject({ provisional: false, calendarVersion: calendar.version, generation: 2 });
    expect(r.resolveDue).toBe('2027-01-05T23:59:59.999+08:00');
    expect(c.windows?.dueAt).toBe('2027-01-05T23:59:59.999+08:00');
    expect(second.fired).toBe(1);
    expect(t.types()).toEqual(['Case.SlaWarning:sign']);
  });

  it('should rewrite the key of a case whose writer left a stale one', async () => {
    // Prepare: the item carries the sign-warning key though the case is signed.
    const t = new MemoryTable();
    const c = makeCase();
    const signed = step(c, { type: 'sign' }, dept('zhujian'), '2025-11-03T10:00:00.000+08:00');
    t.put(signed, caseDueKey(c));
    // Act
    const r = await runSlaSweep(t, at('2025-11-03T14:05:00+08:00'));
    const again = await runSlaSweep(t, at('2025-11-03T14:06:00+08:00'));
    // Assess
    expect(r.repaired).toBe(1);
    expect(again.checked).toBe(0);
    expect(t.published).toEqual([]);
  });

  it('should read every shard page by page and handle every due case', async () => {
    // Prepare
    const t = new MemoryTable();
    for (let i = 0; i < 40; i++) t.put(makeCase({ caseId: `C${i}`, trackingNo: `C${i}` }));
    // Act
    const r = await runSlaSweep(t, at('2025-11-03T14:05:00+08:00'), { pageSize: 3, concurrency: 2 });
    // Assess
    expect(r).toMatchObject({ checked: 40, fired: 40, emitted: 40 });
    expect(new Set(t.published.map((e) => e.detail.caseId)).size).toBe(40);
    expect(dueQueryUpperBound('2025-11-03T14:05:00+08:00')).toBe('2025-11-03T06:05:00.000Z#\uffff');
  });
});
