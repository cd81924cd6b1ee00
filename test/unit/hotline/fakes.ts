/** In-memory ports for the hotline handlers: the same semantics as the DynamoDB adapters, no network. */
import type { CallRecord, CallStore } from '#channels/hotline/call-record.ts';
import type { Case } from '#core/case.ts';
import type { NoticeContext } from '#core/cases/notify.ts';
import { CaseService } from '#core/cases/service.ts';
import { TrackingNumbers } from '#core/intake/tracking.ts';
import type {
  Bus,
  BusEvent,
  CasePage,
  OutboundMessage,
  Outbox,
  PutCaseResult,
  PutReportResult,
  Settled,
  StoredReport,
  WorkQueue,
} from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { defaultDepartments, defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import type { Classify } from '#core/triage/triage.ts';
import type { HotlineDeps, HotlineStore } from '#functions/hotline/context.ts';
import { noDuplicateSuggestions } from '#functions/hotline/context.ts';
import type { HttpEvent } from '#functions/lib/http.ts';
import { settleInMemory } from '../../helpers/memory-settle.ts';

export class MemoryStore implements HotlineStore {
  readonly reports = new Map<string, StoredReport>();
  readonly cases = new Map<string, Case>();
  private readonly seq = new Map<string, number>();

  async putReportIfAbsent(report: StoredReport): Promise<PutReportResult> {
    const existing = this.reports.get(report.idemKey);
    if (existing) return { created: false, report: structuredClone(existing) };
    this.reports.set(report.idemKey, structuredClone(report));
    return { created: true, report };
  }
  async getReportByTrackingNo(tn: string) {
    return [...this.reports.values()].find((r) => r.trackingNo === tn);
  }
  async getReportByIdemKey(key: string) {
    return this.reports.get(key);
  }
  async linkReport(idemKey: string, caseId: string, relation: NonNullable<StoredReport['relation']>) {
    const r = this.reports.get(idemKey);
    if (r) Object.assign(r, { caseId, relation });
  }
  async listReportsOfCitizen(key: string, limit = 20): Promise<StoredReport[]> {
    return [...this.reports.values()]
      .filter((r) => citizenKey(r.request.citizen) === key)
      .sort((a, b) => b.acceptedAt.localeCompare(a.acceptedAt))
      .slice(0, limit);
  }
  async createCase(c: Case): Promise<PutCaseResult> {
    const existing = this.cases.get(c.caseId);
    if (existing) return { created: false, existing: structuredClone(existing) };
    this.cases.set(c.caseId, structuredClone(c));
    return { created: true };
  }
  async getCase(id: string) {
    const c = this.cases.get(id);
    return c ? structuredClone(c) : undefined;
  }
  async replaceCase(c: Case, expected: number) {
    if (this.cases.get(c.caseId)?.version !== expected) return false;
    this.cases.set(c.caseId, structuredClone(c));
    return true;
  }
  async markAnnounced(id: string, version: number) {
    settleInMemory(this.cases.get(id), version, { announced: true });
  }
  async markSettled(id: string, version: number, settled: Settled) {
    settleInMemory(this.cases.get(id), version, settled);
  }
  async listDepartmentCases(department: string): Promise<CasePage> {
    return { cases: [...this.cases.values()].filter((c) => c.department === department) };
  }
  async reserveSequence(day: string, size: number): Promise<number> {
    const last = (this.seq.get(day) ?? 0) + size;
    this.seq.set(day, last);
    return last - size + 1;
  }
}

export class MemoryCalls implements CallStore {
  readonly records = new Map<string, CallRecord>();
  failWith: Error | undefined;
  async get(id: string) {
    if (this.failWith) throw this.failWith;
    const r = this.records.get(id);
    return r ? structuredClone(r) : undefined;
  }
  async update(id: string, change: (e: CallRecord | undefined) => CallRecord | undefined) {
    if (this.failWith) throw this.failWith;
    const existing = this.records.get(id);
    const next = change(existing ? structuredClone(existing) : undefined);
    if (!next) return existing;
    const stored = { ...next, contactId: id, version: (existing?.version ?? 0) + 1 };
    this.records.set(id, structuredClone(stored));
    return stored;
  }
}

export class MemoryQueue implements WorkQueue {
  readonly sent: { queueId: string; body: string }[] = [];
  /** Called at each send, e.g. to look at the store at that moment. */
  onSend: ((queueId: string) => void) | undefined;
  async send(queueId: string, bodies: string[]) {
    this.onSend?.(queueId);
    for (const body of bodies) this.sent.push({ queueId, body });
  }
}

export class MemoryBus implements Bus {
  readonly events: BusEvent[] = [];
  failing = false;
  async publish(events: BusEvent[]) {
    if (this.failing) return { failed: events.map((_, i) => i) };
    this.events.push(...events);
    return { failed: [] };
  }
}

export class MemoryOutbox implements Outbox {
  readonly sent: OutboundMessage[] = [];
  async send(m: OutboundMessage) {
    this.sent.push(m);
  }
}

export const categories = new Map(defaultTaxonomy.categories.map((c) => [c.code, c]));
export const departmentName = (id: string) => defaultDepartments.find((d) => d.id === id)?.name;
export const notices: NoticeContext = { publicUrl: 'https://12345.example.gov.cn', departmentName };

/** A leaf category that exists in the shipped 事项清单, for tests that need a real code. */
export const someLeaf = defaultTaxonomy.categories.find((c) => c.parent && c.department)!;

export interface Fakes {
  deps: HotlineDeps;
  store: MemoryStore;
  calls: MemoryCalls;
  queue: MemoryQueue;
  bus: MemoryBus;
  outbox: MemoryOutbox;
  now: { value: Date };
}

export function fakes(opts: { classify?: Classify | 'unavailable' } = {}): Fakes {
  const store = new MemoryStore();
  const calls = new MemoryCalls();
  const queue = new MemoryQueue();
  const bus = new MemoryBus();
  const outbox = new MemoryOutbox();
  const now = { value: new Date('2025-11-28T02:00:00Z') };
  const clock = { now: () => now.value };
  const classify: Classify =
    opts.classify && opts.classify !== 'unavailable'
      ? opts.classify
      : () => ({ confidence: 0, decision: 'manual', reason: 'no model' });
  const deps: HotlineDeps = {
    store,
    queue,
    bus,
    trackingNumbers: new TrackingNumbers(store),
    clock,
    calls,
    cases: new CaseService({ cases: store, bus, clock, departments: defaultDepartments, categories, outbox, notices }),
    categories,
    departmentName,
    classifier: async () => (opts.classify === 'unavailable' ? undefined : classify),
    duplicateSuggestions: noDuplicateSuggestions,
    notices: { outbox, context: notices },
  };
  return { deps, store, calls, queue, bus, outbox, now };
}

const CLAIMS: Record<string, Record<string, string>> = {
  'agent-001': { sub: 'agent-001', 'cognito:username': 'agent-001', 'cognito:groups': '[agents]' },
  'agent-002': { sub: 'agent-002', 'cognito:username': 'agent-002', 'cognito:groups': '[agents]' },
  'sup-001': { sub: 'sup-001', 'cognito:username': 'sup-001', 'cognito:groups': '[supervisors]' },
  'zhujian-clerk': { sub: 'zhujian-clerk', 'cognito:username': 'zhujian-clerk', 'cognito:groups': '[dept-zhujian]' },
};

/** An API Gateway v2 event for an agent route, with the claims the authorizer would add for `who`. */
export function agentEvent(
  routeKey: string,
  who: keyof typeof CLAIMS | undefined,
  opts: { body?: unknown; pathParameters?: Record<string, string> } = {},
): HttpEvent {
  const [method, path] = routeKey.split(' ') as [string, string];
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(opts.pathParameters ? { pathParameters: opts.pathParameters } : {}),
    requestContext: {
      http: { method, path },
      ...(who ? { authorizer: { jwt: { claims: CLAIMS[who], scopes: [] } } } : {}),
    } as unknown as HttpEvent['requestContext'],
    isBase64Encoded: false,
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  };
}
