/**
 * 市民补充 from a channel (an email reply to our acknowledgement, a WeChat photo, voice or location message): a
 * `citizenUpdate` on the citizen's open case through the case service (`core/cases/service.ts`: the lifecycle machine's rules and audit record, one conditional write,
 * `Case.CitizenUpdated` announced, owed events kept for the sweep).
 *
 * The citizen acts as themselves: the actor id is the digest of the sender's address or openid, which the service
 * compares with the case's own citizen, so only the person who filed the case can add to it.
 * At-least-once: the same message delivered twice is one update; a history entry from the same citizen with the same
 * text and attachments is taken as that update already made (a crash after the write and before our answer).
 */
import type { Case } from '#core/case.ts';
import type { CaseService } from '#core/cases/service.ts';
import { CityLoopError, isCityLoopError } from '#core/errors.ts';
import type { Attachment } from '#core/intake/schema.ts';
import type { CaseStore } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';

export interface CitizenUpdateDeps {
  cases: Pick<CaseStore, 'getCase'>;
  service: Pick<CaseService, 'act'>;
}

export interface CitizenUpdateInput {
  caseId: string;
  /** The sender: an email address or a WeChat openid (the service checks it is the reporter's). */
  citizen: { email: string } | { openid: string };
  text: string;
  attachments?: Attachment[];
}

export type CitizenUpdateResult =
  | { status: 'added'; caseId: string; version: number; announced: boolean }
  | { status: 'duplicate'; caseId: string }
  /** The case takes no update (concluded: ILLEGAL_TRANSITION; not this citizen's or gone: NOT_FOUND). */
  | { status: 'refused'; caseId: string; code: string };

const MAX_ATTEMPTS = 5;

const sameKeys = (a: readonly Attachment[] | undefined, b: readonly Attachment[] | undefined) =>
  JSON.stringify((a ?? []).map((x) => x.storageKey)) === JSON.stringify((b ?? []).map((x) => x.storageKey));

function alreadyAdded(c: Case, actorId: string, input: CitizenUpdateInput): boolean {
  return c.history.some(
    (h) =>
      h.action === 'citizenUpdate' &&
      h.actor?.role === 'citizen' &&
      h.actor.id === actorId &&
      h.text === input.text &&
      sameKeys(h.attachments, input.attachments),
  );
}

export async function addCitizenUpdate(
  deps: CitizenUpdateDeps,
  input: CitizenUpdateInput,
): Promise<CitizenUpdateResult> {
  const actorId = citizenKey(input.citizen);
  if (!actorId) return { status: 'refused', caseId: input.caseId, code: 'NO_SENDER' };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const c = await deps.cases.getCase(input.caseId);
    if (!c) return { status: 'refused', caseId: input.caseId, code: 'NOT_FOUND' };
    if (alreadyAdded(c, actorId, input)) return { status: 'duplicate', caseId: c.caseId };
    try {
      const done = await deps.service.act(
        c.caseId,
        {
          type: 'citizenUpdate',
          text: input.text,
          ...(input.attachments?.length ? { attachments: input.attachments } : {}),
        },
        { role: 'citizen', id: actorId },
        { expectedVersion: c.version },
      );
      return { status: 'added', caseId: c.caseId, version: done.case.version, announced: done.announced };
    } catch (e) {
      if (!isCityLoopError(e) || e.status >= 500) throw e;
      if (e.code === 'CONFLICT') continue; // someone else changed the case: read it again
      return { status: 'refused', caseId: c.caseId, code: e.code };
    }
  }
  // a case this busy is transient: the caller's retry (SES → Lambda retries) will try again
  throw new CityLoopError('CONFLICT', `case ${input.caseId} kept changing; citizen update not yet added`, 409);
}
