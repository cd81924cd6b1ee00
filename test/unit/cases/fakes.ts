/** In-memory ports and a triage-opened case, for the lifecycle service tests. */
import type { Case } from '#core/case.ts';
import { CaseService, type CaseServiceDeps } from '#core/cases/service.ts';
import { CityLoopError } from '#core/errors.ts';
import type { Citizen } from '#core/intake/schema.ts';
import { ENDED_STATES } from '#core/lifecycle/states.ts';
import type { PendingRequest } from '#core/lifecycle/types.ts';
import type {
  Bus,
  BusEvent,
  CasePage,
  CaseStore,
  DepartmentListOptions,
  OutboundMessage,
  Outbox,
  Settled,
  StoredReport,
} from '#core/ports.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { type Classify, openCase } from '#core/triage/triage.ts';
import { settleInMemory } from '../../helpers/memory-settle.ts';

export class MemoryCases implements CaseStore {
  cases = new Map<string, Case>();
  writes = 0;
  /** Runs just before a replaceCase checks its version: lets a test change the case "meanwhile". */
  beforeReplace?: () => void;

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
    this.beforeReplace?.();
    const cur = this.cases.get(c.caseId);
    if (cur?.version !== expected) return false;
    this.writes++;
    this.cases.set(c.caseId, structuredClone(c));
    return true;
  }
  async markAnnounced(id: string, version: number) {
    settleInMemory(this.cases.get(id), version, { announced: true });
  }
  async markSettled(id: string, version: number, settled: Settled) {
    settleInMemory(this.cases.get(id), version, settled);
  }
  /** Pages like the department index: sorted by `<state>#<deadline>#<id>`, the cursor being the last key read. */
  async listDepartmentCases(department: string, opts: DepartmentListOptions = {}): Promise<CasePage> {
    const keyOf = (c: Case) =>
      `${c.state}#${(c.deadlines as { resolveDue?: string } | undefined)?.resolveDue ?? c.receivedAt}#${c.caseId}`;
    const range = opts.state === undefined ? opts.statesFrom : undefined;
    const inRange = (k: string) =>
      opts.state !== undefined
        ? k.startsWith(`${opts.state}#`)
        : range
          ? k >= `${range[0]}#` && k <= `${range[1]}#\uffff`
          : true;
    if (opts.after !== undefined && !inRange(opts.after)) throw new CityLoopError('BAD_CURSOR', 'bad cursor', 400);
    const sorted = [...this.cases.values()]
      .filter((c) => c.department === department && inRange(keyOf(c)))
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    if (opts.newestFirst) sorted.reverse();
    const from =
      opts.after === undefined
        ? 0
        : sorted.findIndex((c) => (opts.newestFirst ? keyOf(c) < opts.after! : keyOf(c) > opts.after!));
    const page = from < 0 ? [] : sorted.slice(from, from + (opts.limit ?? 100));
    const more = from >= 0 && from + page.length < sorted.length;
    return {
      cases: page.map((c) => structuredClone(c)),
      ...(more && page.length > 0 ? { cursor: keyOf(page.at(-1)!) } : {}),
    };
  }
  /** Pages like the sparse pending index: open cases with a request, by `<requestedAt>#<id>`; the cursor a key. */
  async listPendingRequests(department: string, limit = 100, after?: string): Promise<CasePage> {
    const keyOf = (c: Case) => `${c.pending?.requestedAt}#${c.caseId}`;
    const sorted = [...this.cases.values()]
      .filter((c) => c.department === department && c.pending != null && !ENDED_STATES.has(c.state))
      .filter((c) => after === undefined || keyOf(c) > after)
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
    const page = sorted.slice(0, limit);
    return {
      cases: page.map((c) => structuredClone(c)),
      ...(sorted.length > page.length && page.length > 0 ? { cursor: keyOf(page.at(-1)!) } : {}),
    };
  }
}

export class MemoryBus implements Bus {
  published: BusEvent[] = [];
  /** Fail every event of the next N publish calls. */
  failCalls = 0;
  async publish(events: BusEvent[]) {
    if (this.failCalls > 0) {
      this.failCalls--;
      return { failed: events.map((_, i) => i) };
    }
    this.published.push(...structuredClone(events));
    return { failed: [] };
  }
  types(): string[] {
    return this.published.map((e) => e.detailType);
  }
}

export class MemoryOutbox implements Outbox {
  sent: OutboundMessage[] = [];
  fail = false;
  async send(m: OutboundMessage) {
    if (this.fail) throw new Error('SMS gateway down');
    this.sent.push(m);
  }
}

export class FixedClock {
  constructor(public ms = Date.parse('2025-11-28T02:00:00Z')) {}
  now = () => new Date(this.ms);
  advance(minutes: number) {
    this.ms += minutes * 60_000;
  }
}

export const categories = new Map(defaultTaxonomy.categories.map((c) => [c.code, c]));

const byKeyword: Classify = ({ text }) =>
  text.includes('路灯')
    ? { category: 'SZ-01', confidence: 0.97, decision: 'auto', reason: 'keyword-rule' }
    : { confidence: 0.2, decision: 'manual', reason: 'below-threshold' };

export const PHONE = '+8613800138000';

export function report(
  trackingNo: string,
  text: string,
  citizen: Citizen = { phone: PHONE },
  channel: StoredReport['request']['channel'] = 'web',
): StoredReport {
  return {
    trackingNo: trackingNo as StoredReport['trackingNo'],
    idemKey: `${channel}#${trackingNo}`,
    acceptedAt: '2025-11-28T09:59:00.000+08:00',
    request: {
      channel,
      channelMessageId: trackingNo,
      receivedAt: '2025-11-28T09:58:00.000+08:00',
      citizen,
      title: text.slice(0, 10),
      text,
    },
  };
}

/** A case as triage opens it: 路灯 → dispatched to chengguan; anything else → manual triage. */
export function triagedCase(
  trackingNo = '20251128000001',
  text = '和平路88号路灯不亮',
  citizen?: Citizen,
  channel?: StoredReport['request']['channel'],
): Case {
  return openCase(report(trackingNo, text, citizen, channel), {
    classify: byKeyword,
    categories,
    departments: defaultDepartments,
    now: '2025-11-28T10:00:00.000+08:00',
  }).case;
}

export interface Harness {
  store: MemoryCases;
  bus: MemoryBus;
  outbox: MemoryOutbox;
  clock: FixedClock;
  service: CaseService;
}

export function harness(extra: Partial<CaseServiceDeps> = {}): Harness {
  const store = new MemoryCases();
  const bus = new MemoryBus();
  const outbox = new MemoryOutbox();
  const clock = new FixedClock();
  const service = new CaseService({
    cases: store,
    bus,
    clock,
    departments: defaultDepartments,
    categories,
    outbox,
    notices: {
      publicUrl: 'https://12345.example.gov.cn',
      token: (tn) => `tok-${tn}`,
      departmentName: (id) => defaultDepartments.find((d) => d.id === id)?.name,
    },
    ...extra,
  });
  return { store, bus, outbox, clock, service };
}

export async function seed(h: Harness, c: Case, announced = true): Promise<Case> {
  await h.store.createCase({ ...c, announcedVersion: announced ? c.version : 0 });
  return c;
}

export const CHENGGUAN = { role: 'department', id: 'cg-clerk', department: 'chengguan' } as const;
export const ZHUJIAN = { role: 'department', id: 'zj-clerk', department: 'zhujian' } as const;
export const SUPERVISOR = { role: 'supervisor', id: 'sup-001' } as const;
export const AGENT = { role: 'agent', id: 'agent-001' } as const;

/** A 延期申请 of 城管 waiting for a supervisor (the pending-request tests). */
export const EXTENSION_REQUEST: PendingRequest = {
  kind: 'extension',
  reason: '等待物资',
  requestedAt: '2025-11-29T10:00:00.000+08:00',
  requestedBy: { role: 'department', id: 'cg-clerk' },
  newDueAt: '2025-12-30T18:00:00.000+08:00',
};

/** A 退单申请 of 城管 waiting for a supervisor. */
export const RETURN_REQUEST: PendingRequest = {
  kind: 'return',
  reason: '不属于本单位职责',
  requestedAt: '2025-11-29T11:00:00.000+08:00',
  requestedBy: { role: 'department', id: 'cg-clerk' },
  from: 'dispatched',
};

/** The n-th tracking number of 2025-11-28. */
export const trackingNoOf = (n: number): string => `20251128${String(n).padStart(6, '0')}`;

/** A chengguan case in `state`, due on day `day` of December (a later day sorts later in its state). */
export function chengguanCaseIn(
  n: number,
  state: Case['state'],
  day: number,
  pending: PendingRequest | null = null,
): Case {
  const c = triagedCase(trackingNoOf(n));
  return {
    ...c,
    state,
    deadlines: { resolveDue: `2025-12-${String(day).padStart(2, '0')}T18:00:00.000+08:00` },
    pending,
    announcedVersion: c.version,
  };
}
