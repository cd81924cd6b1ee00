/**
 * SES receipt verdicts → what intake does with the mail. SES scans inbound mail and reports virus, spam, SPF, DKIM and
 * DMARC results on the receipt of the Lambda event; SES does not act on them itself.
 * https://docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html
 * https://docs.aws.amazon.com/ses/latest/dg/receiving-email-action-lambda-example-functions.html
 */

/** PASS, FAIL, GRAY, PROCESSING_FAILED (and DISABLED when scanning is off); absent when SES did not report it. */
export type VerdictStatus = 'PASS' | 'FAIL' | 'GRAY' | 'PROCESSING_FAILED' | 'DISABLED' | 'MISSING';

export type VerdictDecision = 'accept' | 'flag' | 'reject';

export interface SesVerdicts {
  virus: VerdictStatus;
  spam: VerdictStatus;
  spf: VerdictStatus;
  dkim: VerdictStatus;
  dmarc: VerdictStatus;
  /** The sender domain's DMARC policy, when SES reports one: none, quarantine, reject. */
  dmarcPolicy?: string;
  /** reject: never becomes a report (virus, or DMARC fail under a reject policy); flag: a report held for review. */
  decision: VerdictDecision;
  /** Why, in codes: VIRUS, VIRUS_SCAN_FAILED, SPAM, SPAM_SCAN_FAILED, DMARC_REJECT, DMARC_QUARANTINE. */
  reasons: string[];
}

/** The part of `event.Records[].ses.receipt` we read (structurally compatible with `SESReceipt` of @types/aws-lambda). */
export interface SesReceiptLike {
  spamVerdict?: { status?: string };
  virusVerdict?: { status?: string };
  spfVerdict?: { status?: string };
  dkimVerdict?: { status?: string };
  dmarcVerdict?: { status?: string };
  dmarcPolicy?: string;
}

const KNOWN = new Set(['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED']);

function status(v: { status?: string } | undefined): VerdictStatus {
  const s = v?.status?.toUpperCase();
  return s && KNOWN.has(s) ? (s as VerdictStatus) : 'MISSING';
}

export function sesVerdicts(receipt: SesReceiptLike): SesVerdicts {
  const virus = status(receipt.virusVerdict);
  const spam = status(receipt.spamVerdict);
  const spf = status(receipt.spfVerdict);
  const dkim = status(receipt.dkimVerdict);
  const dmarc = status(receipt.dmarcVerdict);
  const policy = receipt.dmarcPolicy?.toLowerCase();
  const reject: string[] = [];
  const flag: string[] = [];
  if (virus === 'FAIL') reject.push('VIRUS');
  else if (virus === 'PROCESSING_FAILED') flag.push('VIRUS_SCAN_FAILED');
  if (dmarc === 'FAIL' && policy === 'reject') reject.push('DMARC_REJECT');
  else if (dmarc === 'FAIL' && policy === 'quarantine') flag.push('DMARC_QUARANTINE');
  if (spam === 'FAIL') flag.push('SPAM');
  else if (spam === 'PROCESSING_FAILED') flag.push('SPAM_SCAN_FAILED');
  const decision: VerdictDecision = reject.length ? 'reject' : flag.length ? 'flag' : 'accept';
  const out: SesVerdicts = { virus, spam, spf, dkim, dmarc, decision, reasons: [...reject, ...flag] };
  if (policy) out.dmarcPolicy = policy;
  return out;
}
