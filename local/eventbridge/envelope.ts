/**
 * PutEvents entries → EventBridge events: per-entry validation with AWS's error codes and messages, the
 * documented entry-size rule, and the event envelope targets receive.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
import { randomUUID } from 'node:crypto';

/** The envelope EventBridge delivers (plus `replay-name` on replayed events). */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
  'replay-name'?: string;
}

/** A PutEvents request entry as the JSON protocol carries it (`Time` in epoch seconds). */
export interface PutEventsEntry {
  Time?: number | string;
  Source?: string;
  Resources?: string[];
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  TraceHeader?: string;
}

export type EntryFailure = { ErrorCode: string; ErrorMessage: string };

/** PutEvents takes at most 256 KB of entries per call. */
export const MAX_ENTRIES_BYTES = 256 * 1024;
export const MAX_ENTRIES = 10;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Entry size exactly as the user guide computes it. */
export function entrySize(entry: PutEventsEntry): number {
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  size += utf8(typeof entry.Source === 'string' ? entry.Source : '');
  size += utf8(typeof entry.DetailType === 'string' ? entry.DetailType : '');
  if (typeof entry.Detail === 'string') size += utf8(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const r of entry.Resources) if (typeof r === 'string') size += utf8(r);
  return size;
}

const required = (name: string): EntryFailure => ({
  ErrorCode: 'InvalidArgument',
  ErrorMessage: `Parameter ${name} is not valid. Reason: ${name} is a required argument.`,
});

/** EventBridge's event time format: ISO 8601 in UTC to the second. */
export function eventTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function entryDate(time: PutEventsEntry['Time'], now: Date): Date | undefined {
  if (time === undefined || time === null) return now;
  const d = typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * Validates one entry in AWS's order (Source, DetailType, Detail, Detail shape) and builds its event.
 * `Detail` must be a JSON object.
 */
export function toEvent(
  entry: PutEventsEntry,
  ctx: { account: string; region: string; now: Date },
): { ok: true; event: EventEnvelope } | ({ ok: false } & EntryFailure) {
  if (typeof entry.Source !== 'string' || entry.Source === '') return { ok: false, ...required('Source') };
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return { ok: false, ...required('DetailType') };
  if (typeof entry.Detail !== 'string' || entry.Detail === '') return { ok: false, ...required('Detail') };
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ok: false, ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  const resources = entry.Resources ?? [];
  if (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string')) {
    return { ok: false, ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Resources is not valid.' };
  }
  const date = entryDate(entry.Time, ctx.now);
  if (!date) return { ok: false, ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' };
  return {
    ok: true,
    event: {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: ctx.account,
      time: eventTime(date),
      region: ctx.region,
      resources,
      detail: detail as Record<string, unknown>,
    },
  };
}
