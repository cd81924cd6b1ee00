/**
 * POST servicerequestupdates (mySociety extension): a client adds a citizen's update to a request, e.g. a
 * FixMyStreet user's comment. It becomes a `citizenUpdate` entry (市民补充) in the case history, the lifecycle's own
 * action: allowed while the case is open, written by the citizen, public in the citizen's history, and never echoed
 * back in GET servicerequestupdates. The client's `update_id` (FixMyStreet's comment id) makes a retry harmless.
 * The commenter's contact fields are not copied into the case; they stay in the raw record.
 */
import { createHash } from 'node:crypto';
import type { Case, HistoryEntry } from '#core/case.ts';
import type { CityLoopError } from '#core/errors.ts';
import { isTrackingNo } from '#core/ids.ts';
import { cleanText } from '#core/intake/normalize.ts';
import { LIMITS } from '#core/intake/schema.ts';
import { ACTION_FROM } from '#core/lifecycle/states.ts';
import { formatW3c, parseW3cDateTime } from './datetime.ts';
import { badRequest, type Open311Problem, open311Error } from './errors.ts';
import type { Open311Form } from './form.ts';

/** mySociety statuses a client may send (FixMyStreet sends OPEN/CLOSED, or its extended states). */
export const CLIENT_STATUSES = [
  'OPEN',
  'CLOSED',
  'FIXED',
  'IN_PROGRESS',
  'ACTION_SCHEDULED',
  'INVESTIGATING',
  'DUPLICATE',
  'NOT_COUNCILS_RESPONSIBILITY',
  'NO_FURTHER_ACTION',
  'INTERNAL_REFERRAL',
] as const;

export interface ClientUpdate {
  serviceRequestId: string;
  status: string;
  text: string;
  clientUpdatedAt: string;
  /** `<client>:<update_id>` or `<client>:h:<digest>`: the idempotency key stored on the entry. */
  key: string;
}

export type ClientUpdateResult = { ok: true; value: ClientUpdate } | { ok: false; error: CityLoopError };

export function parseClientUpdate(form: Open311Form, clientId: string): ClientUpdateResult {
  const get = (n: string) => form.fields.get(n)?.trim() || undefined;
  const problems: Open311Problem[] = [];
  const id = get('service_request_id');
  if (!id) problems.push({ code: 'MISSING_FIELD', description: 'service_request_id is required' });
  else if (!isTrackingNo(id))
    problems.push({ code: 'INVALID_ID', description: 'service_request_id is not a 受理编号' });
  const statusRaw = get('status');
  const status = statusRaw?.toUpperCase().replace(/ /g, '_');
  if (!status) problems.push({ code: 'MISSING_FIELD', description: 'status is required' });
  else if (!(CLIENT_STATUSES as readonly string[]).includes(status)) {
    problems.push({ code: 'INVALID_STATUS', description: `status must be one of ${CLIENT_STATUSES.join(', ')}` });
  }
  const updatedRaw = get('updated_datetime');
  const updated = updatedRaw ? parseW3cDateTime(updatedRaw) : undefined;
  if (!updatedRaw) problems.push({ code: 'MISSING_FIELD', description: 'updated_datetime is required' });
  else if (!updated) problems.push({ code: 'INVALID_DATE', description: 'updated_datetime is not a W3C date-time' });
  const description = cleanText(form.fields.get('description') ?? '');
  const mediaUrl = get('media_url');
  if (mediaUrl && (mediaUrl.length > 2048 || !/^https?:\/\/\S+$/.test(mediaUrl))) {
    problems.push({
      code: 'INVALID_MEDIA_URL',
      description: 'media_url must be an http(s) URL of at most 2048 characters',
    });
  }
  const text = mediaUrl ? `${description}\n图片 media_url：${mediaUrl}`.trim() : description;
  if (text === '') problems.push({ code: 'MISSING_FIELD', description: 'description (or media_url) is required' });
  else if ([...text].length > LIMITS.text) {
    problems.push({
      code: 'DESCRIPTION_TOO_LONG',
      description: `description is longer than ${LIMITS.text} characters`,
    });
  }
  const clientUpdateId = get('update_id') ?? get('update_id_ext');
  if (clientUpdateId && !/^[\w.:-]{1,64}$/.test(clientUpdateId)) {
    problems.push({ code: 'INVALID_UPDATE_ID', description: 'update_id is 1 to 64 letters, digits or _ . : -' });
  }
  if (problems.length > 0 || !id || !status || !updated) return { ok: false, error: open311Error(400, problems) };
  const key = clientUpdateId
    ? `${clientId}:${clientUpdateId}`
    : `${clientId}:h:${createHash('sha256')
        .update(JSON.stringify([id, updatedRaw, status, text]))
        .digest('base64url')
        .slice(0, 22)}`;
  return { ok: true, value: { serviceRequestId: id, status, text, clientUpdatedAt: formatW3c(updated.ms), key } };
}

export type AppendResult =
  | { ok: true; next: Case; index: number; created: true }
  | { ok: true; index: number; created: false }
  | { ok: false; error: CityLoopError };

/** The case with the update appended (version + 1), or the index of the same update already there. */
export function appendClientUpdate(c: Case, u: ClientUpdate, clientId: string, now: string): AppendResult {
  const existing = c.history.findIndex((h) => h.details?.open311Update === u.key);
  if (existing >= 0) return { ok: true, index: existing, created: false };
  if (!(ACTION_FROM.citizenUpdate as readonly string[]).includes(c.state)) {
    return {
      ok: false,
      error: badRequest(
        'CASE_CONCLUDED',
        '该诉求已办结，补充信息无法追加；如问题仍未解决，请致电12345申请重办 the request is concluded: call 12345 to reopen it',
      ),
    };
  }
  const version = c.version + 1;
  const entry: HistoryEntry = {
    at: now,
    version,
    actor: { role: 'citizen', id: `open311:${clientId}` },
    action: 'citizenUpdate',
    from: c.state,
    to: c.state,
    department: c.department ?? null,
    text: u.text,
    visibility: 'public',
    details: { channel: 'open311', open311Update: u.key, clientStatus: u.status, clientUpdatedAt: u.clientUpdatedAt },
  };
  const owed = c.announcedVersion < c.version;
  const next: Case = {
    ...c,
    version,
    updatedAt: now,
    history: [...c.history, entry],
    // Nothing to announce for a citizen's words: keep the mark level unless an earlier announcement is still owed.
    announcedVersion: owed ? c.announcedVersion : version,
  };
  return { ok: true, next, index: c.history.length, created: true };
}
