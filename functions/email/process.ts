/**
 * One inbound mail, from raw MIME to its outcome, against the ports: the plain function behind the SES handler
 * (`inbound.ts`) and the local SMTP listener (both invoke the same handler).
 *
 * 1. Parse (`channels/email`). Bad mail (too large, nested too deep, no text, no sender) is quarantined with its
 *    reason, never thrown: a retry would not make it better.
 * 2. SES verdicts: virus (or DMARC fail under a reject policy) → quarantined; spam → held for review, no report and
 *    no acknowledgement (answering spam is backscatter).
 * 3. Machine-written mail (auto-replies, bounces, lists, reports) → quarantined, never answered: no mail loops.
 * 4. The same Message-ID again → the same report, nothing else happens.
 * 5. A reply to our acknowledgement (In-Reply-To/References naming `<ack.{受理编号}…>`, the tracking number in the
 *    subject, or the citizen's own earlier mail) from the same address, on an open case → a 市民补充 on that case.
 * 6. Otherwise a new report: attachments stored, request accepted (idempotent), acknowledgement to the outbox.
 * Infrastructure failures (store, bus, blobs) throw, so the invocation is retried; every step is idempotent.
 */
import { createHash } from 'node:crypto';
import {
  type AcknowledgementInput,
  acknowledgementFor,
  acknowledgementSubject,
  acknowledgementText,
  buildAcknowledgement,
  type EmailIntake,
  emailToIntake,
  type SesReceiptLike,
  type SesVerdicts,
  sesVerdicts,
  shouldAcknowledge,
} from '#channels/email/intake.ts';
import { type ParsedEmail, parseEmail } from '#channels/email/parse.ts';
import type { CaseService } from '#core/cases/service.ts';
import { isCityLoopError } from '#core/errors.ts';
import { shanghaiDay, toShanghaiIso } from '#core/ids.ts';
import { type Accepted, idemKeyOf } from '#core/intake/accept.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { BlobStore, CaseStore, Clock, Outbox, ReportStore, StoredReport } from '#core/ports.ts';
import { addCitizenUpdate } from '../lib/citizen-update.ts';
import { log } from '../lib/log.ts';

export interface InboundDeps {
  blobs: BlobStore;
  store: Pick<ReportStore, 'getReportByTrackingNo' | 'getReportByIdemKey'> & Pick<CaseStore, 'getCase'>;
  /** The case lifecycle (`core/cases/service.ts`): citizen updates go through it. */
  cases: Pick<CaseService, 'act'>;
  outbox: Outbox;
  clock: Clock;
  accept(request: IntakeRequest): Promise<Accepted>;
  /** Our sender address (MAIL_FROM): the acknowledgements' From, and never answered itself. */
  mailFrom: string;
}

export interface InboundMail {
  raw: Uint8Array;
  /** Where the raw MIME is kept (SES wrote it to S3; the SMTP listener to the local blobs). */
  rawKey: string;
  receivedAt: Date;
  /** The SES receipt (verdicts), when the mail came through SES. */
  sesReceipt?: SesReceiptLike;
}

export type InboundOutcome =
  | { status: 'accepted'; trackingNo: string; created: boolean; acknowledged: boolean }
  | { status: 'updated'; trackingNo: string; caseId: string; duplicate: boolean; acknowledged: boolean }
  | { status: 'held'; reason: string; key: string }
  | { status: 'quarantined'; reason: string; key: string };

const OPEN_CASE_LOOKUPS = 5;

const digest = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);

async function quarantine(
  deps: InboundDeps,
  mail: InboundMail,
  folder: 'quarantine' | 'review',
  reason: string,
  details: Record<string, unknown> = {},
): Promise<string> {
  const day = shanghaiDay(mail.receivedAt);
  const key = `${folder}/email/${day}/${digest(mail.rawKey)}.json`;
  const record = { reason, rawKey: mail.rawKey, receivedAt: mail.receivedAt.toISOString(), ...details };
  await deps.blobs.put(key, Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8'), 'application/json');
  return key;
}

/** Stores the accepted attachments; keys are derived from the Message-ID, so a retry overwrites, never duplicates. */
async function storeAttachments(deps: InboundDeps, parsed: ParsedEmail, id: string, day: string): Promise<string[]> {
  const base = `attachments/email/${day}/${digest(id)}`;
  const keys: string[] = [];
  for (const [i, a] of parsed.attachments.entries()) {
    const ext = /\.([A-Za-z0-9]{1,5})$/.exec(a.name)?.[1]?.toLowerCase() ?? 'bin';
    const key = `${base}/${i + 1}.${ext}`;
    await deps.blobs.put(key, a.content, a.contentType);
    keys.push(key);
  }
  return keys;
}

/** The report this mail answers, if it comes from the same address that filed it. */
async function threadOf(deps: InboundDeps, intake: EmailIntake, sender: string): Promise<StoredReport | undefined> {
  const same = (r: StoredReport | undefined) =>
    r && r.request.citizen.email?.toLowerCase() === sender.toLowerCase() ? r : undefined;
  const t = intake.threading;
  for (const tn of new Set([t.trackingNoInReferences, t.trackingNoInSubject])) {
    if (!tn) continue;
    const r = same(await deps.store.getReportByTrackingNo(tn));
    if (r) return r;
  }
  for (const id of (t.inReplyTo ?? []).slice(0, OPEN_CASE_LOOKUPS)) {
    const r = same(await deps.store.getReportByIdemKey(idemKeyOf({ channel: 'email', channelMessageId: id })));
    if (r) return r;
  }
  return undefined;
}

async function acknowledge(
  deps: InboundDeps,
  parsed: ParsedEmail,
  trackingNo: string,
  kind: 'accepted' | 'update',
  caseId?: string,
): Promise<boolean> {
  if (!shouldAcknowledge(parsed, { ownAddresses: [deps.mailFrom] })) return false;
  const input: AcknowledgementInput = {
    ...acknowledgementFor(parsed, trackingNo),
    from: deps.mailFrom,
    date: deps.clock.now(),
    kind,
  };
  const to = typeof input.to === 'string' ? input.to : input.to.address;
  try {
    await deps.outbox.send({
      channel: 'email',
      to,
      subject: acknowledgementSubject(input.subject, trackingNo),
      text: acknowledgementText(input),
      raw: buildAcknowledgement(input),
      trackingNo,
      ...(caseId ? { caseId } : {}),
      kind: kind === 'update' ? 'email-update-acknowledgement' : 'email-acknowledgement',
    });
    return true;
  } catch (e) {
    // The report is safe; a lost acknowledgement is not worth a retry that cannot resend it (the retry finds the
    // report already accepted). Logged for the operators.
    log.warn('email acknowledgement not sent', { trackingNo, error: (e as Error).message });
    return false;
  }
}

export async function processInboundEmail(deps: InboundDeps, mail: InboundMail): Promise<InboundOutcome> {
  const verdicts: SesVerdicts | undefined = mail.sesReceipt ? sesVerdicts(mail.sesReceipt) : undefined;
  if (verdicts?.decision === 'reject') {
    const key = await quarantine(deps, mail, 'quarantine', verdicts.reasons.join(','), { verdicts });
    return { status: 'quarantined', reason: verdicts.reasons.join(','), key };
  }

  let parsed: ParsedEmail;
  let intake: EmailIntake;
  const day = shanghaiDay(mail.receivedAt);
  try {
    parsed = await parseEmail(mail.raw);
    if (parsed.autoGenerated) {
      const reason = 'AUTO_GENERATED';
      const key = await quarantine(deps, mail, 'quarantine', reason, {
        signals: parsed.loop.reasons,
        subject: parsed.subject,
      });
      return { status: 'quarantined', reason, key };
    }
    const probe = emailToIntake(parsed, { receivedAt: toShanghaiIso(mail.receivedAt) });
    const id = probe.request.channelMessageId;
    // the same mail again (SES retry, a resend of the same message): the same report, and nothing else
    const existing = await deps.store.getReportByIdemKey(idemKeyOf(probe.request));
    if (existing) return { status: 'accepted', trackingNo: existing.trackingNo, created: false, acknowledged: false };

    const attachmentKeys = await storeAttachments(deps, parsed, id, day);
    intake = emailToIntake(parsed, {
      receivedAt: toShanghaiIso(mail.receivedAt),
      rawKey: mail.rawKey,
      attachmentKeys,
      ...(mail.sesReceipt ? { sesReceipt: mail.sesReceipt } : {}),
    });
  } catch (e) {
    if (!isCityLoopError(e) || e.status >= 500 || e.code === 'CONFLICT') throw e;
    const key = await quarantine(deps, mail, 'quarantine', e.code, { message: e.message });
    return { status: 'quarantined', reason: e.code, key };
  }

  if (verdicts?.decision === 'flag') {
    const reason = verdicts.reasons.join(',');
    const key = await quarantine(deps, mail, 'review', reason, { verdicts, request: intake.request });
    log.info('email held for review', { reason, key });
    return { status: 'held', reason, key };
  }

  const sender = intake.request.citizen.email as string;
  const thread = await threadOf(deps, intake, sender);
  if (thread) {
    const caseId = thread.caseId ?? thread.trackingNo;
    const update = await addCitizenUpdate(
      { cases: deps.store, service: deps.cases },
      {
        caseId,
        citizen: { email: sender },
        text: intake.request.text,
        ...(intake.request.attachments ? { attachments: intake.request.attachments } : {}),
      },
    );
    if (update.status !== 'refused') {
      const duplicate = update.status === 'duplicate';
      const acknowledged = duplicate ? false : await acknowledge(deps, parsed, thread.trackingNo, 'update', caseId);
      log.info('email added to case', { caseId, trackingNo: thread.trackingNo, duplicate });
      return { status: 'updated', trackingNo: thread.trackingNo, caseId, duplicate, acknowledged };
    }
    // a concluded or not yet triaged case takes no additions: the mail becomes a report of its own
    log.info('email reply not added to its case', { caseId, code: update.code });
  }

  let request: IntakeRequest;
  try {
    request = normalizeIntake(intake.request);
  } catch (e) {
    if (!isCityLoopError(e)) throw e;
    const key = await quarantine(deps, mail, 'quarantine', e.code, { message: e.message });
    return { status: 'quarantined', reason: e.code, key };
  }
  const accepted = await deps.accept(request);
  const acknowledged = accepted.created ? await acknowledge(deps, parsed, accepted.trackingNo, 'accepted') : false;
  log.info('email report accepted', { trackingNo: accepted.trackingNo, created: accepted.created, acknowledged });
  return { status: 'accepted', trackingNo: accepted.trackingNo, created: accepted.created, acknowledged };
}
