import { describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import { createKeywordClassifier } from '#core/classify/keywords.ts';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { createDedupeEngine } from '#core/dedupe/engine.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { InMemoryDedupeStore } from '#core/dedupe/store.ts';
import { caseIdFor, type TrackingNo } from '#core/ids.ts';
import type { Action } from '#core/lifecycle/actions.ts';
import type { Actor } from '#core/lifecycle/types.ts';
import type { Bus, BusEvent, CaseStore, ReportStore, Settled, StoredReport } from '#core/ports.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { MAX_MERGE_HISTORY, mergeIntoCase } from '#core/triage/merge.ts';
import { type TriageDeps, type TriageOutcome, triageBatch } from '#core/triage/process.ts';
import type { TriageContext } from '#core/triage/triage.ts';
import { settleInMemory } from '../../helpers/memory-settle.ts';
import { type IncidentDraft, threeIncidents } from './three-incidents.ts';

class MemoryCases implements CaseStore {
  cases = new Map<string, Case>();
  /** Replaces to refuse once (a concurrent writer got there first). */
  loseRaces = 0;
  replaces = 0;
  async createCase(c: Case) {
    const existing = this.cases.get(c.caseId);
    if (existing) return { created: false as const, existing: structuredClone(existing) };
    this.cases.set(c.caseId, structuredClone(c));
    return { created: true as const };
  }
  async getCase(id: string) {
    const c = this.cases.get(id);
    return c ? structuredClone(c) : undefined;
  }
  async replaceCase(c: Case, expected: number) {
    this.replaces++;
    const cur = this.cases.get(c.caseId);
    if (this.loseRaces > 0 && cur) {
      this.loseRaces--;
      // Someone else changed the case meanwhile.
      this.cases.set(c.caseId, { ...cur, version: cur.version + 1, updatedAt: 'someone else' });
      return false;
    }
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
  async publish(events: BusEvent[]) {
    this.published.push(...events);
    return { failed: [] };
  }
}

class Links implements Pick<ReportStore, 'linkReport'> {
  links = new Map<string, { caseId: string; relation: string }>();
  async linkReport(idemKey: string, caseId: string, relation: string) {
    this.links.set(idemKey, { caseId, relation });
  }
}

const classifier = createKeywordClassifier(defaultTaxonomy);
const categories = new Map(defaultTaxonomy.categories.map((c) => [c.code, c]));
const context = (): TriageContext => ({
  classify: (input) => classifier.classify(input),
  categories,
  departments: defaultDepartments,
  now: '2025-11-28T10:00:00.000+08:00',
});

const T0 = Date.parse('2025-11-28T09:00:00+08:00');

function stored(d: IncidentDraft, i: number, at = T0 + i * 2000): StoredReport {
  const trackingNo = `20251128${String(i + 1).padStart(6, '0')}` as TrackingNo;
  const channelMessageId = d.channel === 'web' ? `key:${d.key}` : `walkin:agent-001:${d.uuid}`;
  return {
    trackingNo,
    idemKey: `${d.channel}#${channelMessageId}`,
    acceptedAt: new Date(at).toISOString(),
    request: {
      channel: d.channel,
      channelMessageId,
      receivedAt: new Date(at).toISOString(),
      citizen: { phone: `+86${d.phone}` },
      title: d.title,
      text: d.text,
      location: d.location,
    },
  };
}

function world(store = new InMemoryDedupeStore(), cases = new MemoryCases(), bus = new RecordingBus()) {
  const links = new Links();
  const acted: { caseId: string; action: Action; actor: Actor }[] = [];
  const engine = createDedupeEngine({
    store,
    config: defaultDedupeConfig,
    groups: createGroupResolver(defaultDedupeConfig, defaultTaxonomy),
    caseIdOf: (id) => caseIdFor(id as TrackingNo),
    sleep: () => new Promise((r) => setTimeout(r, 1)),
  });
  const lifecycle = {
    async act(caseId: string, action: Action, actor: Actor) {
      acted.push({ caseId, action, actor });
      const c = cases.cases.get(caseId);
      if (c?.state !== 'closed') throw new Error('not closed');
      cases.cases.set(caseId, { ...c, state: 'dispatched', version: c.version + 1, announcedVersion: c.version + 1 });
    },
  };
  const deps: TriageDeps = {
    cases,
    bus,
    context,
    departmentName: (id) => defaultDepartments.find((d) => d.id === id)?.name,
    dedupe: { engine, reports: links, lifecycle, sleep: () => new Promise((r) => setTimeout(r, 1)) },
  };
  return { store, cases, bus, links, acted, deps };
}

async function inBatches(deps: TriageDeps, reports: StoredReport[], size = 10): Promise<TriageOutcome[]> {
  const out: TriageOutcome[] = [];
  for (let i = 0; i < reports.length; i += size) {
    const res = await triageBatch(deps, reports.slice(i, i + size));
    for (const r of res) {
      if (r.status === 'rejected') throw r.reason;
      out.push(r.value);
    }
  }
  return out;
}

describe('Function: triageBatch with dedupe', () => {
  it('should turn 200 reports about 3 incidents into 3 cases, 3 department messages and the right counts', async () => {
    // Prepare
    const drafts = threeIncidents(200);
    const reports = drafts.map((d, i) => stored(d, i));
    const w = world();
    // Act
    const out = await inBatches(w.deps, reports);
    // Assess: one case per incident, one department message each, nothing else for the department queues.
    expect(w.cases.cases.size).toBe(3);
    const dispatched = w.bus.published.filter((e) => e.detailType === 'Case.Dispatched');
    expect(dispatched).toHaveLength(3);
    expect(new Set(dispatched.map((e) => e.detail.department))).toEqual(new Set(['shuiwu', 'chengguan', 'huanbao']));
    const caseOfIncident = new Map<string, Set<string>>();
    out.forEach((o, i) => {
      const set = caseOfIncident.get(drafts[i]!.incident) ?? new Set();
      set.add(o.caseId);
      caseOfIncident.set(drafts[i]!.incident, set);
    });
    for (const [incident, ids] of caseOfIncident) {
      expect(ids.size, incident).toBe(1);
      const c = w.cases.cases.get([...ids][0]!)!;
      const mine = drafts.filter((d) => d.incident === incident);
      const incidentReports = out.filter((o, i) => drafts[i]!.incident === incident && o.relation === 'incident');
      // reportCount: the opening report + every other citizen's report; reporterCount: distinct citizens.
      expect(c.reportCount).toBe(1 + incidentReports.length);
      expect(c.reporterCount).toBe(new Set(mine.map((d) => d.phone)).size);
      expect(c.announcedVersion).toBe(c.version);
    }
    // Repeats of the same citizen are attached, not counted as other citizens.
    expect(out.filter((o) => o.relation === 'repeat').length).toBeGreaterThan(0);
    // Every merged report is linked to the case it joined (the citizen's page shows that case).
    for (const [i, o] of out.entries()) {
      if (o.relation === 'new') continue;
      expect(w.links.links.get(reports[i]!.idemKey)).toEqual({ caseId: o.caseId, relation: o.relation });
    }
    // 热点: Case.IncidentGrew once per crossed threshold, to the supervisors (never to a department rule).
    const grew = w.bus.published.filter((e) => e.detailType === 'Case.IncidentGrew');
    const expected = [...w.cases.cases.values()].flatMap((c) =>
      [5, 20, 100].filter((t) => (c.reporterCount as number) >= t).map((t) => `${c.caseId}:${t}`),
    );
    expect(grew.map((e) => `${e.detail.caseId}:${e.detail.threshold}`).sort()).toEqual(expected.sort());
    expect(grew.every((e) => e.detail.citizen === undefined)).toBe(true);
  });

  it('should change nothing when a batch of merged reports is delivered again', async () => {
    // Prepare
    const reports = threeIncidents(40, 11).map((d, i) => stored(d, i));
    const w = world();
    await inBatches(w.deps, reports);
    const before = structuredClone([...w.cases.cases.values()]);
    const published = w.bus.published.length;
    // Act
    const again = await inBatches(w.deps, reports.slice(10, 30));
    // Assess
    expect([...w.cases.cases.values()]).toEqual(before);
    expect(w.bus.published).toHaveLength(published);
    expect(again.every((o) => !o.announced)).toBe(true);
  });

  it('should re-read and re-apply the merge when another writer changed the case first', async () => {
    // Prepare
    const reports = threeIncidents(20, 3)
      .filter((d) => d.incident === 'water')
      .map((d, i) => stored(d, i));
    const w = world();
    await inBatches(w.deps, reports.slice(0, 1));
    w.cases.loseRaces = 2;
    // Act
    const out = await inBatches(w.deps, reports.slice(1, 2));
    // Assess: the third attempt wrote, on top of the other writer's version.
    expect(out[0]!.relation).toBe('incident');
    const c = w.cases.cases.get(out[0]!.caseId)!;
    expect(c.reportCount).toBe(2);
    expect(c.updatedAt).toBe('2025-11-28T10:00:00.000+08:00');
    expect(w.cases.replaces).toBe(3);
  });

  it('should open one case when two triage workers race on one incident', async () => {
    // Prepare: one table (dedupe store + cases) shared by two workers with their own engines.
    const store = new InMemoryDedupeStore();
    const cases = new MemoryCases();
    const bus = new RecordingBus();
    const a = world(store, cases, bus);
    const b = world(store, cases, bus);
    const reports = threeIncidents(60, 21)
      .filter((d) => d.incident === 'water')
      .map((d, i) => stored(d, i, T0 + 1000));
    const half = Math.ceil(reports.length / 2);
    // Act: both start at once, each with its half, in batches of 10.
    const [ra, rb] = await Promise.all([
      inBatches(a.deps, reports.slice(0, half)),
      inBatches(b.deps, reports.slice(half)),
    ]);
    // Assess
    const ids = new Set([...ra, ...rb].map((o) => o.caseId));
    expect(ids.size).toBe(1);
    expect(cases.cases.size).toBe(1);
    // One department message; a worker that joined the case before its opener announced it may re-send the same
    // event (same eventId, which consumers drop).
    const dispatched = bus.published.filter((e) => e.detailType === 'Case.Dispatched');
    expect(new Set(dispatched.map((e) => e.detail.eventId)).size).toBe(1);
  });

  it('should reopen (重办) a closed case its citizen reports again, as that citizen', async () => {
    // Prepare
    const drafts = threeIncidents(30, 5).filter((d) => d.incident === 'lights');
    const first = stored(drafts[0]!, 0);
    const w = world();
    await inBatches(w.deps, [first]);
    const caseId = caseIdFor(first.trackingNo);
    const closedAt = new Date(T0 + 3_600_000).toISOString();
    w.store.setCaseStatus(caseId, 'closed', T0 + 3_600_000);
    const c = w.cases.cases.get(caseId)!;
    w.cases.cases.set(caseId, {
      ...c,
      state: 'closed',
      version: c.version + 1,
      announcedVersion: c.version + 1,
      updatedAt: closedAt,
    });
    const again = stored({ ...drafts[1]!, phone: drafts[0]!.phone }, 50, T0 + 2 * 86_400_000);
    // Act
    const [out] = await inBatches(w.deps, [again]);
    // Assess
    expect(out).toMatchObject({ relation: 'repeat', caseId, reopen: 'reopened' });
    expect(w.acted).toHaveLength(1);
    expect(w.acted[0]!.action.type).toBe('reopen');
    expect(w.acted[0]!.actor.role).toBe('citizen');
    expect(w.cases.cases.get(caseId)?.state).toBe('dispatched');
    const merge = w.cases.cases.get(caseId)!.history.at(-1)!;
    expect(merge.details).toMatchObject({ relation: 'repeat', reopenRequested: true });
  });

  it('should only record the 重办 request when the repeating citizen did not file the case', async () => {
    // Prepare: the closed case was filed by someone else; this citizen joined it earlier as an incident reporter.
    const drafts = threeIncidents(30, 5).filter((d) => d.incident === 'lights');
    const w = world();
    await inBatches(w.deps, [stored(drafts[0]!, 0)]);
    await inBatches(w.deps, [stored(drafts[1]!, 1)]);
    const caseId = caseIdFor(stored(drafts[0]!, 0).trackingNo);
    w.store.setCaseStatus(caseId, 'closed', T0 + 3_600_000);
    const c = w.cases.cases.get(caseId)!;
    w.cases.cases.set(caseId, { ...c, state: 'closed', version: c.version + 1, announcedVersion: c.version + 1 });
    // Act
    const [out] = await inBatches(w.deps, [stored({ ...drafts[2]!, phone: drafts[1]!.phone }, 60, T0 + 86_400_000)]);
    // Assess
    expect(out).toMatchObject({ relation: 'repeat', caseId, reopen: 'recorded' });
    expect(w.acted).toHaveLength(0);
    expect(w.cases.cases.get(caseId)?.state).toBe('closed');
  });
});

describe('Function: mergeIntoCase', () => {
  const base = (): Case => {
    const w = stored(threeIncidents(1, 9)[0]!, 0);
    return {
      caseId: w.trackingNo,
      trackingNo: w.trackingNo,
      state: 'dispatched',
      version: 1,
      department: 'shuiwu',
      nature: '求助',
      urgency: 'normal',
      channel: 'web',
      title: 't',
      text: 't',
      citizen: { phone: '+8613900000000' },
      receivedAt: w.request.receivedAt,
      updatedAt: w.request.receivedAt,
      classification: { confidence: 1, decision: 'auto', reason: 'r' },
      reportCount: 1,
      reporters: [],
      announcedVersion: 0,
      history: [],
    };
  };
  const input = (i: number, crossed: number[] = []) => ({
    report: stored(threeIncidents(1, 9)[0]!, i),
    relation: 'incident' as const,
    dedupe: { reporterCount: i + 1, crossed, explanation: '并案', score: 0.5 },
    now: '2025-11-28T10:00:00.000+08:00',
  });

  it('should carry what an earlier version still owes instead of burying it, and owe nothing new otherwise', () => {
    // Prepare: version 1 was written but its Case.Dispatched never announced.
    const c = base();
    // Act
    const merged = mergeIntoCase(c, input(1))!;
    // Assess: the owed event keeps its eventId (version 1), so consumers drop a repeat of it.
    expect(merged.events.map((e) => e.detail.eventId)).toEqual([`${c.caseId}:1:Case.Dispatched`]);
    expect(merged.next.announcedVersion).toBe(0);
    const announced = mergeIntoCase({ ...c, announcedVersion: 1 }, input(1))!;
    expect(announced.events).toEqual([]);
    expect(announced.next).toMatchObject({ version: 2, announcedVersion: 2, reportCount: 2 });
  });

  it('should keep the case item bounded: reporters and merge entries are capped, the count is not', () => {
    // Prepare
    let c: Case = { ...base(), announcedVersion: 1 };
    // Act
    for (let i = 1; i <= MAX_MERGE_HISTORY + 60; i++) c = mergeIntoCase(c, input(i, i === 150 ? [100] : []))!.next;
    // Assess
    expect(c.reportCount).toBe(MAX_MERGE_HISTORY + 61);
    expect(c.reporters).toHaveLength(50);
    expect(c.history).toHaveLength(MAX_MERGE_HISTORY + 1);
    expect(c.history.at(-1)?.details).toMatchObject({ threshold: 100 });
    // Still idempotent for the recent ones.
    expect(mergeIntoCase(c, input(MAX_MERGE_HISTORY + 60))).toBeUndefined();
  });
});
