/**
 * Builds raw test mail the way Chinese clients write it, with real encoders (iconv-lite), so the parser is tested
 * against bytes and not against strings we typed in UTF-8.
 */
import iconv from 'iconv-lite';

export const enc = (text: string, charset: string): Buffer => iconv.encode(text, charset);

/** RFC 2047 encoded word: bytes in `charset`, labelled `label` (a wrong label on purpose, when given). */
export function encodedWord(text: string, charset: string, encoding: 'B' | 'Q' = 'B', label = charset): string {
  const bytes = enc(text, charset);
  if (encoding === 'B') return `=?${label}?B?${bytes.toString('base64')}?=`;
  let q = '';
  for (const b of bytes) {
    q +=
      b === 0x20
        ? '_'
        : b > 0x20 && b < 0x7f && b !== 0x3d && b !== 0x3f && b !== 0x5f
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `=?${label}?Q?${q}?=`;
}

/** RFC 2231 extended parameter value: `GB2312''%D5%C5...`. */
export function rfc2231(text: string, charset: string): string {
  return `${charset}''${[...enc(text, charset)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')}`;
}

export function base64Lines(bytes: Buffer): string {
  return bytes.toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');
}

/** Quoted-printable of raw bytes, soft line breaks at 76. */
export function quotedPrintable(bytes: Buffer): string {
  const lines: string[] = [];
  for (const rawLine of bytes.toString('latin1').split('\r\n')) {
    let out = '';
    let len = 0;
    for (const ch of rawLine) {
      const c = ch.charCodeAt(0);
      const piece =
        (c >= 0x21 && c <= 0x7e && c !== 0x3d) || c === 0x20 ? ch : `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
      if (len + piece.length > 75) {
        out += '=\r\n';
        len = 0;
      }
      out += piece;
      len += piece.length;
    }
    lines.push(out.replace(/ $/, '=20'));
  }
  return lines.join('\r\n');
}

export interface PartSpec {
  headers: string[];
  body: string | Buffer;
}

export function part(spec: PartSpec): Buffer {
  // header text is written as UTF-8 (plain ASCII in the usual case; raw UTF-8 8-bit headers when a test wants them)
  return Buffer.concat([Buffer.from(`${spec.headers.join('\r\n')}\r\n\r\n`, 'utf8'), Buffer.from(spec.body)]);
}

export function multipart(type: string, boundary: string, parts: Buffer[]): { contentType: string; body: Buffer } {
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(Buffer.from(`--${boundary}\r\n`), p, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/${type}; boundary="${boundary}"`, body: Buffer.concat(chunks) };
}

export interface MessageSpec {
  from?: string;
  to?: string;
  subject?: string | Buffer;
  messageId?: string;
  extraHeaders?: string[];
  contentType: string;
  transferEncoding?: string;
  body: string | Buffer;
}

/** A whole message; header strings are written as UTF-8, `subject` may be raw bytes (8-bit GBK, as old clients send). */
export function message(spec: MessageSpec): Buffer {
  const head: Buffer[] = [];
  const line = (s: string) => head.push(Buffer.from(`${s}\r\n`, 'utf8'));
  line(`From: ${spec.from ?? 'citizen@example.com'}`);
  line(`To: ${spec.to ?? '12345@city.example.cn'}`);
  if (spec.subject !== undefined) {
    head.push(Buffer.from('Subject: '), Buffer.from(spec.subject), Buffer.from('\r\n'));
  }
  line('Date: Fri, 28 Nov 2025 10:00:00 +0800');
  if (spec.messageId !== '')
    line(`Message-ID: ${spec.messageId ?? `<${Math.random().toString(36).slice(2)}@example.com>`}`);
  for (const h of spec.extraHeaders ?? []) line(h);
  line('MIME-Version: 1.0');
  line(`Content-Type: ${spec.contentType}`);
  if (spec.transferEncoding) line(`Content-Transfer-Encoding: ${spec.transferEncoding}`);
  return Buffer.concat([...head, Buffer.from('\r\n'), Buffer.from(spec.body)]);
}
