/**
 * What the hotline functions need, as one object: the runtime's ports, the call records, the lifecycle service, the
 * classifier (loaded on first use: the Connect function and the call lookup never pay for it) and the duplicate
 * suggestions of the dedupe engine. Tests build the same object from in-memory parts.
 *
 * Config (env): the runtime's (`TABLE_NAME`, `EVENT_BUS_NAME`, `QUEUE_URL_INTAKE`, `QUEUE_URL_NOTIFY`) and
 * `CALL_RECORD_TTL_DAYS` (see ./calls.ts).
 */
import type { CallStore } from '#channels/hotline/call-record.ts';
import type { Case } from '#core/case.ts';
import type { NoticeContext } from '#core/cases/notify.ts';
import type { CaseService } from '#core/cases/service.ts';
import type { DuplicateSuggestion } from '#core/dedupe/engine.ts';
import type { Citizen, Location } from '#core/intake/schema.ts';
import type { TrackingNumbers } from '#core/intake/tracking.ts';
import type {
  Bus,
  CaseStore,
  Clock,
  Outbox,
  ReportStore,
  SequenceStore,
  StoredReport,
  WorkQueue,
} from '#core/ports.ts';
import { countOwed } from '#core/sla/case-metrics.ts';
import type { Category } from '#core/taxonomy/types.ts';
import type { MergeRelation } from '#core/triage/merge.ts';
import type { Classify } from '#core/triage/triage.ts';
import { caseService, categories, departmentName, noticeContext } from '../lib/case-context.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { duplicateSuggestions, joinAttached, triageContext } from '../lib/triage-context.ts';
import { callStore } from './calls.ts';

export interface HotlineStore extends ReportStore, CaseStore, SequenceStore {
  listReportsOfCitizen(key: string, limit?: number): Promise<StoredReport[]>;
}

/** What the agent has typed so far, for 重复件/并案 suggestions. */
export interface DuplicateQuery {
  text: string;
  title?: string;
  location?: Location;
  citizen?: Citizen;
  /** The category the agent picked or the classifier suggested (groups the draft as triage will). */
  category?: string;
  /** ISO 8601 with offset. */
  at: string;
}

/**
 * Extension point for the dedupe engine (`core/dedupe/engine.ts` `suggest`): possible duplicates of a draft, best
 * first. On the runtime it is `duplicateSuggestions` of `functions/lib/triage-context.ts` (the engine on the table);
 * `noDuplicateSuggestions` is the stand-in where no engine is wired (unit tests).
 */
export type DuplicateSuggester = (query: DuplicateQuery) => Promise<DuplicateSuggestion[]>;

export const noDuplicateSuggestions: DuplicateSuggester = async () => [];

export interface HotlineDeps {
  store: HotlineStore;
  queue: WorkQueue;
  bus: Bus;
  trackingNumbers: TrackingNumbers;
  clock: Clock;
  calls: CallStore;
  /** The lifecycle service, for a step on a case that already exists (an answer after an earlier submission). */
  cases: Pick<CaseService, 'act'>;
  categories: ReadonlyMap<string, Category>;
  departmentName(id: string): string | undefined;
  /** The classifier, loaded on first use; undefined when it cannot be loaded (suggestions are then left out). */
  classifier(): Promise<Classify | undefined>;
  duplicateSuggestions: DuplicateSuggester;
  /** Tells the dedupe engine about a call attached to a case (`DedupeEngine.join`); absent → not told (unit tests). */
  dedupeJoin?: (report: StoredReport, c: Case, relation: MergeRelation) => Promise<void>;
  /** Notices to the citizen (the answer by SMS or email); absent → nobody is told. */
  notices?: { outbox: Outbox; context: NoticeContext };
  /** 考核数据: counts a case the hotline creates (a consultation answered on the call); absent → not counted. */
  metrics?: { count(c: Case): Promise<void> };
}

let classifierLoad: Promise<Classify | undefined> | undefined;

/**
 * The classifier of triage (`functions/lib/triage-context.ts`), built on first use and cached per container. A static
 * import: in a bundle a dynamic one is inlined anyway and only stops tree-shaking (−60 kB, −12 ms import measured).
 */
function loadClassifier(): Promise<Classify | undefined> {
  classifierLoad ??= Promise.resolve()
    .then(() => triageContext(new Date()).classify)
    .catch((e: Error) => {
      log.error('classifier unavailable', { error: e.message });
      classifierLoad = undefined;
      return undefined;
    });
  return classifierLoad;
}

/** The deps on the runtime of this container (AWS, or the local stack's emulators). */
export function runtimeDeps(): HotlineDeps {
  const rt = getRuntime();
  return {
    store: rt.store,
    queue: rt.queue,
    bus: rt.bus,
    trackingNumbers: rt.trackingNumbers,
    clock: rt.clock,
    calls: callStore(),
    cases: caseService(),
    categories,
    departmentName,
    classifier: loadClassifier,
    // The dedupe engine on the table (loaded on first use, like the classifier).
    duplicateSuggestions: (query) => duplicateSuggestions(query),
    dedupeJoin: (report, c, relation) => joinAttached(report, c, relation),
    notices: { outbox: rt.outbox, context: noticeContext },
    metrics: { count: (c) => countOwed(rt.store, [c]) },
  };
}
