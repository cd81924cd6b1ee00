/**
 * The call record (来电记录): what telephony told us about one contact, kept so the agent console can pre-fill the
 * caller's number, and which reports the agents filed from the call. Keyed by Connect's ContactId.
 * A contact flow may invoke the Lambda several times (at entry, after the IVR menu, on a transfer): each invocation
 * merges into the same record instead of replacing it. Pure.
 */
import type { CallerStatus, ConnectCall } from './connect.ts';

export interface CallReportRef {
  seq: number;
  trackingNo: string;
  enteredBy: string;
  at: string;
}

export interface CallRecord {
  contactId: string;
  initialContactId?: string;
  previousContactId?: string;
  channel: string;
  initiationMethod?: string;
  /** E.164 from telephony. */
  callerPhone?: string;
  callerStatus: CallerStatus;
  dialled?: string;
  queue?: { name?: string; arn?: string };
  instanceArn?: string;
  attributes: Record<string, string>;
  parameters: Record<string, string>;
  /** First and latest contact flow invocation (ISO 8601, +08:00). `firstSeenAt` is when the call was received. */
  firstSeenAt: string;
  updatedAt: string;
  invocations: number;
  /** Reports filed from this call, by sequence number (1, 2 ... for several requests in one call). */
  reports: CallReportRef[];
  /** Optimistic-concurrency version of the stored item. */
  version: number;
}

/** A caller number once known is never erased by a later invocation that lacks it (e.g. a transfer flow). */
export function mergeCall(existing: CallRecord | undefined, call: ConnectCall, now: string): CallRecord {
  if (!existing) {
    const { dropped: _d, ...facts } = call;
    return { ...facts, firstSeenAt: now, updatedAt: now, invocations: 1, reports: [], version: 0 };
  }
  const next: CallRecord = {
    ...existing,
    channel: call.channel || existing.channel,
    attributes: { ...existing.attributes, ...call.attributes },
    parameters: { ...existing.parameters, ...call.parameters },
    updatedAt: now,
    invocations: existing.invocations + 1,
  };
  if (call.callerPhone) {
    next.callerPhone = call.callerPhone;
    next.callerStatus = 'present';
  } else if (!existing.callerPhone && rank(call.callerStatus) > rank(existing.callerStatus)) {
    next.callerStatus = call.callerStatus;
  }
  for (const k of ['initialContactId', 'previousContactId', 'initiationMethod', 'dialled', 'instanceArn'] as const) {
    if (call[k]) next[k] = call[k];
  }
  if (call.queue) next.queue = call.queue;
  return next;
}

/** How much a status says: `none` (nothing given) < `invalid` < `withheld` < `present`. */
function rank(s: CallerStatus): number {
  return { none: 0, invalid: 1, withheld: 2, present: 3 }[s];
}

/** Records a report filed from the call; the same sequence number again changes nothing (a retry, a double click). */
export function addReport(record: CallRecord, ref: CallReportRef): CallRecord | undefined {
  if (record.reports.some((r) => r.seq === ref.seq)) return undefined;
  const reports = [...record.reports, ref].sort((a, b) => a.seq - b.seq);
  return { ...record, reports };
}

/** The port the hotline functions use; `adapters/dynamo/calls.ts` implements it on the table. */
export interface CallStore {
  get(contactId: string): Promise<CallRecord | undefined>;
  /**
   * Reads the record, applies `change` (undefined from `change` = nothing to write) and writes it back if nobody else
   * wrote meanwhile; retries a bounded number of times. Returns the record as stored.
   */
  update(
    contactId: string,
    change: (existing: CallRecord | undefined) => CallRecord | undefined,
  ): Promise<CallRecord | undefined>;
}
