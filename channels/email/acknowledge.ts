/**
 * The acknowledgement mail (受理回执): a raw RFC 5322 message with the tracking number in the subject, threaded to the
 * citizen's mail (In-Reply-To/References), marked `Auto-Submitted: auto-replied` (RFC 3834) so that well-behaved
 * auto-responders never answer it, UTF-8 throughout (RFC 2047 encoded words in headers, base64 body). Written by hand:
 * the rules are few, and a hand-built message keeps this pure module free of a mail library.
 * https://www.rfc-editor.org/rfc/rfc5322 https://www.rfc-editor.org/rfc/rfc3834
 */
import { randomUUID } from 'node:crypto';
import { CityLoopError } from '#core/errors.ts';
import type { Mailbox } from './headers.ts';
import type { ParsedEmail } from './parse.ts';
import { baseSubject } from './subject.ts';

export interface AcknowledgementInput {
  /** The citizen: `a@b` or a mailbox with a display name. */
  to: string | Mailbox;
  /** The citizen's subject, as received (prefixes and an old tracking tag are removed). */
  subject: string;
  trackingNo: string;
  /** Message-ID of the citizen's mail, `<id>`. */
  inReplyTo?: string;
  /** The citizen's References plus their Message-ID, oldest first. */
  references?: string[];
  /** Our sender. Default `"12345 政务服务便民热线" <no-reply@cityloop.local>`; on AWS, an SES-verified identity. */
  from?: string | Mailbox;
  /** Default now. */
  date?: Date;
  /** Default a random `<ack.{trackingNo}.{uuid}@{from domain}>`. */
  messageId?: string;
  /** Name in the closing line. Default `12345 政务服务便民热线`. */
  orgName?: string;
  /** `accepted` (default): a new report was accepted; `update`: added to the open case as the citizen's 补充. */
  kind?: 'accepted' | 'update';
}

/** Our acknowledgements' Message-IDs are `<ack.{trackingNo}.{uuid}@domain>`: a reply names its case in its headers. */
const ACK_ID_PREFIX = 'ack.';

/** The tracking number inside one of our acknowledgement Message-IDs, or undefined. */
export function trackingNoOfAckId(id: string): string | undefined {
  return /^<ack\.([0-9A-Za-z-]{1,40})\.[^<>@\s]+@[^<>\s]+>$/.exec(id)?.[1];
}

const DEFAULT_FROM: Mailbox = { name: '12345 政务服务便民热线', address: 'no-reply@cityloop.local' };
const ADDRESS = /^[^\s@<>()",;:\\]+@[^\s@<>()",;:\\]+$/;
const MSG_ID = /^<[^<>\s]{1,250}>$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: CR, LF and NUL are what header injection is made of.
const oneLine = (s: string) => s.replace(/[\r\n\u0000]+/g, ' ').trim();

function mailbox(v: string | Mailbox): Mailbox {
  const m = typeof v === 'string' ? { address: v } : v;
  const address = oneLine(m.address);
  if (!ADDRESS.test(address)) throw new CityLoopError('INVALID_ADDRESS', `无效的邮件地址：${address}`, 400);
  return m.name ? { address, name: oneLine(m.name) } : { address };
}

/** RFC 2047 B-encoded words (39 bytes → 64 chars, so `Subject: ` + word stays within 76), split on character boundaries. */
function encodeWords(text: string): string[] {
  const words: string[] = [];
  let chunk = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > 39) {
      words.push(chunk);
      chunk = '';
      bytes = 0;
    }
    chunk += ch;
    bytes += n;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`);
}

/** A header value: plain when it is short printable ASCII, encoded words (folded, one per line) otherwise. */
function text(name: string, value: string): string {
  const v = oneLine(value);
  if (/^[\x20-\x7e]*$/.test(v) && name.length + 2 + v.length <= 78) return `${name}: ${v}`;
  return `${name}: ${encodeWords(v).join('\r\n ')}`;
}

function address(name: string, m: Mailbox): string {
  if (!m.name) return `${name}: <${m.address}>`;
  const display = /^[\x20-\x7e]*$/.test(m.name)
    ? `"${m.name.replace(/(["\\])/g, '\\$1')}"`
    : encodeWords(m.name).join('\r\n ');
  return `${name}: ${display}\r\n <${m.address}>`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date in China Standard Time (+0800), the zone of the office that sends it. */
export function rfc5322Date(d: Date): string {
  const t = new Date(d.getTime() + 8 * 3600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[t.getUTCDay()]}, ${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${t.getUTCFullYear()} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())} +0800`;
}

export function acknowledgementSubject(subject: string, trackingNo: string): string {
  return `[受理编号 ${oneLine(trackingNo)}] Re: ${baseSubject(oneLine(subject)) || '您的来信'}`;
}

/** The plain text of the acknowledgement (`\n` line ends), for outbox records and logs. */
export function acknowledgementText(input: AcknowledgementInput): string {
  return bodyText(input, oneLine(input.orgName ?? DEFAULT_FROM.name ?? '')).replace(/\r\n/g, '\n');
}

function bodyText(input: AcknowledgementInput, org: string): string {
  const subject = baseSubject(oneLine(input.subject));
  const lead =
    input.kind === 'update'
      ? [`您补充的情况已收到，已记入受理编号 ${input.trackingNo} 的工单，并转交办理单位。`]
      : [
          `您的来信已收到并受理，受理编号：${input.trackingNo}。`,
          '我们将按规定时限转交有关部门办理，办理结果将通过邮件告知您。',
        ];
  return [
    '您好！',
    '',
    ...lead,
    '如需补充情况或材料，请直接回复本邮件，并保留主题中的受理编号。',
    ...(subject ? ['', `来信主题：${subject}`] : []),
    '',
    '（本邮件由系统自动发送。）',
    org,
    '',
  ].join('\r\n');
}

/** The acknowledgement as raw RFC 5322 bytes (CRLF line ends), ready for SES SendRawEmail or an outbox file. */
export function buildAcknowledgement(input: AcknowledgementInput): Buffer {
  if (!/^[0-9A-Za-z-]{1,40}$/.test(input.trackingNo)) {
    throw new CityLoopError('INVALID_TRACKING_NO', `无效的受理编号：${input.trackingNo}`, 400);
  }
  const to = mailbox(input.to);
  const from = mailbox(input.from ?? DEFAULT_FROM);
  const domain = from.address.split('@')[1] ?? 'cityloop.local';
  const messageId = input.messageId ?? `<${ACK_ID_PREFIX}${input.trackingNo}.${randomUUID()}@${domain}>`;
  if (!MSG_ID.test(messageId)) throw new CityLoopError('INVALID_MESSAGE_ID', `无效的 Message-ID：${messageId}`, 400);
  const parent = input.inReplyTo && MSG_ID.test(input.inReplyTo) ? input.inReplyTo : undefined;
  const references = [...new Set([...(input.references ?? []), ...(parent ? [parent] : [])])]
    .filter((r) => MSG_ID.test(r))
    .slice(-20);

  const headers = [
    address('From', from),
    address('To', to),
    text('Subject', acknowledgementSubject(input.subject, input.trackingNo)),
    `Date: ${rfc5322Date(input.date ?? new Date())}`,
    `Message-ID: ${messageId}`,
    ...(parent ? [`In-Reply-To: ${parent}`] : []),
    ...(references.length ? [`References: ${references.join('\r\n ')}`] : []),
    'Auto-Submitted: auto-replied',
    // Exchange and Outlook: no out-of-office or other automatic answer to this one
    'X-Auto-Response-Suppress: All',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
  ];
  const body = Buffer.from(bodyText(input, oneLine(input.orgName ?? DEFAULT_FROM.name ?? '')), 'utf8')
    .toString('base64')
    .replace(/.{76}(?=.)/g, '$&\r\n');
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}\r\n`, 'utf8');
}

export interface ShouldAcknowledgeOptions {
  /** Our own addresses: mail from them is never answered. */
  ownAddresses?: readonly string[];
}

/** False for machine-written mail (auto-replies, bounces, lists, reports), for senders who asked not to get
 * automatic answers, for mail from ourselves, and when there is no address to answer. */
export function shouldAcknowledge(parsed: ParsedEmail, opts: ShouldAcknowledgeOptions = {}): boolean {
  if (parsed.autoGenerated || parsed.loop.suppressAutoResponse) return false;
  const to = (parsed.replyTo ?? parsed.from)?.address.toLowerCase();
  if (!to) return false;
  const own = new Set((opts.ownAddresses ?? []).map((a) => a.toLowerCase()));
  return !own.has(to) && !own.has(parsed.from?.address.toLowerCase() ?? '');
}

/** The acknowledgement's addressing and threading for a parsed mail (answer to Reply-To when there is one). */
export function acknowledgementFor(
  parsed: ParsedEmail,
  trackingNo: string,
): Pick<AcknowledgementInput, 'to' | 'subject' | 'trackingNo' | 'inReplyTo' | 'references'> {
  const to = parsed.replyTo ?? parsed.from;
  if (!to) throw new CityLoopError('NO_SENDER', '邮件没有可回复的发件人地址', 422);
  return {
    to,
    subject: parsed.subject,
    trackingNo,
    ...(parsed.messageId ? { inReplyTo: parsed.messageId } : {}),
    references: [...parsed.references, ...(parsed.messageId ? [parsed.messageId] : [])],
  };
}
