/**
 * 邮件渠道 (SES → S3 → Lambda): an SES receipt rule stores the raw message in the blob bucket under
 * `EMAIL_RAW_PREFIX` + the SES message id (S3 action), then invokes this function (Lambda action, Event). We read the
 * raw MIME back and hand it to `processInboundEmail`. Locally the SMTP listener (`local/services/smtp.ts`) writes the
 * raw message to the same key in the local blobs and invokes this handler with the same event shape.
 * https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-lambda-event.html
 *
 * Env: MAIL_FROM (our sender, SES-verified on AWS), EMAIL_RAW_PREFIX (default `raw/email/ses/`).
 */
import middy from '@middy/core';
import type { SESEvent } from 'aws-lambda';
import type { CaseService } from '#core/cases/service.ts';
import { acceptReport } from '#core/intake/accept.ts';
import { log } from '../lib/log.ts';
import { getRuntime } from '../lib/runtime.ts';
import { type InboundDeps, type InboundOutcome, processInboundEmail } from './process.ts';

export const DEFAULT_RAW_PREFIX = 'raw/email/ses/';
const SES_MESSAGE_ID = /^[A-Za-z0-9._-]{1,200}$/;

export const rawPrefix = (): string => process.env.EMAIL_RAW_PREFIX ?? DEFAULT_RAW_PREFIX;
export const mailFrom = (): string => process.env.MAIL_FROM ?? 'no-reply@cityloop.local';

export function inboundDeps(): InboundDeps {
  const rt = getRuntime();
  return {
    blobs: rt.blobs,
    store: rt.store,
    // The case service (lifecycle, SLA calendar, taxonomy) loads with the first reply to a case: a new report, the
    // usual first email, never needs it.
    cases: {
      act: async (...args: Parameters<CaseService['act']>) =>
        (await import('../lib/case-context.ts')).caseService().act(...args),
    },
    outbox: rt.outbox,
    clock: rt.clock,
    accept: (request) => acceptReport(rt, request),
    mailFrom: mailFrom(),
  };
}

export async function handleSesEvent(event: SESEvent, deps: InboundDeps): Promise<{ results: InboundOutcome[] }> {
  const results: InboundOutcome[] = [];
  for (const record of event.Records ?? []) {
    const id = record.ses?.mail?.messageId ?? '';
    if (!SES_MESSAGE_ID.test(id)) {
      log.warn('ses record without a usable message id', { id: id.slice(0, 80) });
      continue;
    }
    const rawKey = `${rawPrefix()}${id}`;
    const raw = await deps.blobs.get(rawKey);
    // S3 is strongly consistent: a missing object is a wiring error; throwing makes Lambda retry and alarm
    if (!raw) throw new Error(`raw message not found at ${rawKey}`);
    const at = Date.parse(record.ses.receipt?.timestamp ?? record.ses.mail.timestamp ?? '');
    const outcome = await processInboundEmail(deps, {
      raw,
      rawKey,
      receivedAt: Number.isNaN(at) ? deps.clock.now() : new Date(at),
      ...(record.ses.receipt ? { sesReceipt: record.ses.receipt } : {}),
    });
    log.info('email processed', { rawKey, ...outcome });
    results.push(outcome);
  }
  return { results };
}

export const handler = middy<SESEvent, { results: InboundOutcome[] }>().handler(
  async function emailInboundHandler(event) {
    return handleSesEvent(event, inboundDeps());
  },
);
