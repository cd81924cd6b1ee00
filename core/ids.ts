/**
 * Ids with their own types, so a tracking number is never passed where a case id is expected.
 * 受理编号 (tracking number): `YYYYMMDD` (Asia/Shanghai date of receipt) + a 6-digit daily sequence, e.g. `20251128000123`;
 * past 999,999 in a day the sequence simply grows a digit. Easy to read out on the phone, sortable by day.
 */
export type TrackingNo = string & { readonly __brand: 'TrackingNo' };
export type CaseId = string & { readonly __brand: 'CaseId' };

export const TRACKING_NO_PATTERN = /^(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\d{6,8})$/;
/** Finds a tracking number inside free text (an email subject, a WeChat message). */
export const TRACKING_NO_IN_TEXT = /(?<!\d)(20\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{6,8})(?!\d)/;

export function isTrackingNo(s: string): s is TrackingNo {
  return TRACKING_NO_PATTERN.test(s);
}

export function formatTrackingNo(day: string, seq: number): TrackingNo {
  return `${day}${String(seq).padStart(6, '0')}` as TrackingNo;
}

const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** `YYYYMMDD` of an instant in Asia/Shanghai (UTC+8 all year, no DST). */
export function shanghaiDay(instant: Date): string {
  return new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10).replace(/-/g, '');
}

/** ISO 8601 with the +08:00 offset, the way Chinese users read times. */
export function toShanghaiIso(instant: Date): string {
  const local = new Date(instant.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return `${local.slice(0, 23)}+08:00`;
}

/** A case is named after the report that opened it: one number for the citizen and the department. */
export function caseIdFor(trackingNo: TrackingNo): CaseId {
  return trackingNo as string as CaseId;
}
