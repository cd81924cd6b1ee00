import { describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import type { Bus, BusEvent, CaseStore, Settled, StoredReport } from '#core/ports.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { triageBatch } from '#core/triage/process.ts';
import type { Classify, TriageContext } from '#core/triage/triage.ts';
import { settleInMemory } from '../../helpers/memory-settle.ts';

class MemoryCases implements CaseStore {
  cases = new Map<string, Case>();
  failCreate = new Set<string>();
  async createCase(c: Case) {
    if (this.failCreate.has(c.caseId)) throw new Error('throttled');
    const existing = this.cases.get(c.caseId);
    if (existing) return { created: false as const, existing: structuredClone(existing) };
    this.cases.set(c.caseId, structuredClone(c));
    return { created: true as const };
  }
  async getCase(id: string) {
    return this.cases.get(id);
  }
  async replaceCase(c: Case, expected: number) {
    const cur = this.cases.get(c.caseId);
    if (cur?.version !== expected) return false;
    this.cases.set(c.caseId, structuredClone(c));
    return true;
  }
  async markAnnounced(id: string, version: number) {
    settleInMemory(this.cases.get(id), version, { announced: true });
  }
  async markSettled(id: string, version: number, settled: Settled) {
    settleInMemory(this.cases.get(id), version, settled);
  }
  async listDepartmentCases() {
    return { cases: [] };
  }
}

class RecordingBus implements Bus {
  published: BusEvent[] = [];
  failNext = 0;
  async publish(events: BusEvent[]) {
    const failed: number[] = [];
    events.forEach((e, i) => {
      if (this.failNext > 0) {
        this.failNext--;
        failed.push(i);
      } else this.published.push(e);
    });
    return { failed };
  }
}

const byKeyword: Classify = ({ text }) =>
  text.includes('路灯')
    ? { category: 'SZ-01', confidence: 0.97, decision: 'auto', reason: 'keyword-rule' }
    : { confidence: 0.2, decision: 'manual', reason: 'below-threshold' };

const ctx = (): TriageContext => ({
  classify: byKeyword,
  categories: new Map(defaultTaxonomy.categories.map((c) => [c.code, c])),
  departments: defaultDepartments,
  now: '2025-11-28T10:00:00.000+08:00',
});

const report = (n: number, text: string): StoredReport => ({
  trackingNo: `2025112800000${n}` as StoredReport['trackingNo'],
  idemKey: `web#k${n}`,
  acceptedAt: '2025-11-28T09:59:59.000+08:00',
  request: {
    channel: 'web',
    channelMessageId: `k${n}`,
    receivedAt: '2025-11-28T09:59:59+08:00',
    citizen: { phone: '+8613800138000' },
    title: text.slice(0, 10),
    text,
  },
});

const deps = (cases: MemoryCases, bus: RecordingBus) => ({
  cases,
  bus,
  context: ctx,
  departmentName: (id?: string) => defaultDepartments.find((d) => d.id === id)?.name,
});

describe('Function: triageBatch', () => {
  it('should open a dispatched case and announce it once, or send doubt to manual triage', async () => {
    // Prepare
    const cases = new MemoryCases();
    const bus = new RecordingBus();
    // Act
    const out = await triageBatch(deps(cases, bus), [report(1, '路灯不亮'), report(2, '这事说不清楚')]);
    // Assess
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(bus.published.map((e) => [e.detailType, e.detail.department])).toEqual([
      ['Case.Dispatched', 'chengguan'],
      ['Case.TriageRequired', 'centre'],
    ]);
    expect(cases.cases.get('20251128000001')).toMatchObject({ state: 'dispatched', version: 1, announcedVersion: 1 });
    expect(cases.cases.get('20251128000002')).toMatchObject({ state: 'triage', announcedVersion: 1 });
    expect(bus.published[0]?.detail.eventId).toBe('20251128000001:1:Case.Dispatched');
  });

  it('should not announce again when the same report is redelivered after a complete run', async () => {
    const cases = new MemoryCases();
    const bus = new RecordingBus();
    await triageBatch(deps(cases, bus), [report(1, '路灯不亮')]);
    const again = await triageBatch(deps(cases, bus), [report(1, '路灯不亮')]);
    expect(again[0]).toMatchObject({ status: 'fulfilled', value: { relation: 'resubmission', announced: false } });
    expect(bus.published).toHaveLength(1);
    expect(cases.cases.size).toBe(1);
  });

  it('should fail only the report whose announcement the bus refused, and announce it on redelivery', async () => {
    // Prepare
    const cases = new MemoryCases();
    const bus = new RecordingBus();
    bus.failNext = 1;
    // Act
    const first = await triageBatch(deps(cases, bus), [report(1, '路灯不亮'), report(3, '路灯闪烁')]);
    // Assess: the case is written but owed; the redelivery announces it.
    expect(first.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    expect(cases.cases.get('20251128000001')?.announcedVersion).toBe(0);
    const second = await triageBatch(deps(cases, bus), [report(1, '路灯不亮')]);
    expect(second[0]).toMatchObject({ status: 'fulfilled', value: { relation: 'resubmission', announced: true } });
    expect(bus.published.filter((e) => e.detail.caseId === '20251128000001')).toHaveLength(1);
    expect(cases.cases.get('20251128000001')?.announcedVersion).toBe(1);
  });

  it('should keep a store failure to its own report', async () => {
    const cases = new MemoryCases();
    cases.failCreate.add('20251128000001');
    const bus = new RecordingBus();
    const out = await triageBatch(deps(cases, bus), [report(1, '路灯不亮'), report(3, '路灯闪烁')]);
    expect(out.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    expect(bus.published).toHaveLength(1);
  });
});
