/**
 * Ports: the small interfaces the core needs from the world. AWS adapters live in `adapters/`, in-memory ones in
 * `core/memory/` (tests, CLI replays).
 */
import type { Case } from './case.ts';
import type { TrackingNo } from './ids.ts';
import type { IntakeRequest } from './intake/schema.ts';

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A report: one citizen's submission on one channel, as accepted. */
export interface StoredReport {
  trackingNo: TrackingNo;
  /** `<channel>#<channelMessageId>`: the idempotency key. */
  idemKey: string;
  request: IntakeRequest;
  acceptedAt: string;
  /** Set when triage attached this report to a case other than its own (a repeat or an incident). */
  caseId?: string;
  relation?: 'new' | 'resubmission' | 'repeat' | 'incident';
}

/** Where a citizen's list of reports goes on: the last report read (newest first by `acceptedAt`). */
export interface ReportCursor {
  acceptedAt: string;
  idemKey: string;
}

export type PutReportResult = { created: true; report: StoredReport } | { created: false; report: StoredReport };

export interface ReportStore {
  /** Stores the report unless one with the same idemKey exists (then returns that one). One conditional write. */
  putReportIfAbsent(report: StoredReport): Promise<PutReportResult>;
  getReportByTrackingNo(trackingNo: string): Promise<StoredReport | undefined>;
  getReportByIdemKey(idemKey: string): Promise<StoredReport | undefined>;
  /** Records which case a report ended up on (repeats and incidents). */
  linkReport(idemKey: string, caseId: string, relation: NonNullable<StoredReport['relation']>): Promise<void>;
}

export type PutCaseResult = { created: true } | { created: false; existing: Case };

/** What a writer settled after a case write (`CaseStore.markSettled`). */
export interface Settled {
  announced?: boolean;
  counted?: boolean;
}

export interface CaseStore {
  /** Creates the case unless it exists. One conditional write. */
  createCase(c: Case): Promise<PutCaseResult>;
  getCase(caseId: string): Promise<Case | undefined>;
  /**
   * Replaces the case if its version is still `expectedVersion` (optimistic concurrency: one conditional write).
   * Returns false when someone else changed it first.
   */
  replaceCase(c: Case, expectedVersion: number): Promise<boolean>;
  /** Marks the case's current version as announced on the bus. */
  markAnnounced(caseId: string, version: number): Promise<void>;
  /**
   * Settles what version `version` of the case owed, in one write: `announced` marks it announced on the bus (as
   * `markAnnounced`), `counted` drops what it owed the daily aggregates (`metricsOwed`, counted by the caller). Does
   * nothing when the case moved on meanwhile: the newer version owes the same, and counting it again adds nothing.
   */
  markSettled(caseId: string, version: number, settled: Settled): Promise<void>;
  /**
   * A department's cases by state then deadline (the department index), one page; `state` narrows to one state,
   * `newestFirst` reads the latest deadlines first. The page's `cursor`, passed back as `after` with the same
   * department and options, gives the next page; none: that was the last.
   */
  listDepartmentCases(department: string, opts?: DepartmentListOptions): Promise<CasePage>;
  /**
   * A department's open cases with a request waiting for a supervisor (`pending`: 退单申请, 延期申请), the oldest
   * request first, one page of up to `limit`; the page's `cursor`, passed back as `after` with the same department,
   * gives the next. Optional: without it, the supervisors' overview sees only what the department lists hold.
   */
  listPendingRequests?(department: string, limit?: number, after?: string): Promise<CasePage>;
}

export interface DepartmentListOptions {
  state?: string;
  /** The states from the first to the last of these, in the index's (name) order; with `state`, ignored. */
  statesFrom?: readonly [string, string];
  limit?: number;
  newestFirst?: boolean;
  /**
   * The `cursor` of the previous page (opaque; it may come back from a client). A cursor that is not one of this
   * department's and options' pages is refused with `BAD_CURSOR` (400).
   */
  after?: string;
}

export interface CasePage {
  cases: Case[];
  /** Where the next page starts; absent on the last page. */
  cursor?: string;
}

export interface SequenceStore {
  /** Atomically reserves `size` numbers of the day's sequence, returning the first. */
  reserveSequence(day: string, size: number): Promise<number>;
}

export interface BusEvent {
  detailType: string;
  detail: Record<string, unknown>;
  /** Case id, for tracing; becomes the event's `resources`. */
  resources?: string[];
}

export interface Bus {
  /**
   * Puts events in batches of ≤10, re-sending only failed entries; returns the indexes of the events that still
   * failed after the retries.
   */
  publish(events: BusEvent[]): Promise<{ failed: number[] }>;
}

export interface QueueMessage {
  id: string;
  body: string;
}

export interface WorkQueue {
  send(queueId: string, bodies: string[]): Promise<void>;
}

/** Raw inputs and attachments: S3 on AWS, files under the data folder locally. */
export interface BlobStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
}

/** A message to a citizen on their channel (email acknowledgement, SMS, WeChat subscribe message). */
export interface OutboundMessage {
  channel: 'email' | 'sms' | 'wechat';
  to: string;
  subject?: string;
  text: string;
  /** A complete RFC 5322 message for email, when the caller built one (threading headers). */
  raw?: Uint8Array;
  trackingNo?: string;
  caseId?: string;
  kind: string;
}

export interface Outbox {
  send(message: OutboundMessage): Promise<void>;
}
