/**
 * Header decoding that survives what Chinese mail clients write: RFC 2047 encoded words under any GB/Big5 alias,
 * a character split across two encoded words, encoded words with spaces or a missing `?=`, and raw 8-bit GBK or Big5
 * bytes in a header with no encoding at all. Headers come in as the parser's raw lines (one char per byte, latin1).
 * https://www.rfc-editor.org/rfc/rfc2047
 */
import { parseAddressHeader } from 'mailparser';
import { decodeText } from './charset.ts';

/** One raw header line as the parser hands it over: `key` lower-cased, `line` the whole folded line, one char per byte. */
export interface RawHeaderLine {
  key: string;
  line: string;
}

/** Root headers by lower-cased name, values unfolded but not yet decoded (one char per byte). */
export type RawHeaders = Map<string, string[]>;

export function collectHeaders(lines: readonly RawHeaderLine[]): RawHeaders {
  const map: RawHeaders = new Map();
  for (const { key, line } of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n(?=[ \t])/g, '')
      .trim();
    const k = key.toLowerCase();
    const list = map.get(k);
    if (list) list.push(value);
    else map.set(k, [value]);
  }
  return map;
}

export const firstHeader = (headers: RawHeaders, key: string): string | undefined => headers.get(key)?.[0];

/** Bytes of a latin1 string (each char is one byte, as the parser stores raw header lines). */
function bytesOf(latin1: string): Buffer {
  return Buffer.from(latin1, 'latin1');
}

function decodeQ(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '_') out.push(0x20);
    else if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(text.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

function decodeB(text: string): Buffer {
  // lenient: stray characters and missing padding are common in the wild
  return Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}

// `=?charset?B?text?=`; the text may hold spaces (broken clients), the closing `?=` may be missing at the end.
const ENCODED_WORD = /=\?([^?\s]{1,64})\?([BbQq])\?([^?]*?)(?:\?=|$)/g;

interface Segment {
  charset?: string;
  bytes: Buffer;
  encoded: boolean;
}

/**
 * Decodes a header value: encoded words (adjacent ones with the same charset joined at the byte level, so a
 * character split across two words survives), and raw 8-bit text with charset detection. Never throws.
 */
export function decodeHeaderValue(raw: string): string {
  const value = raw.replace(/\r?\n[ \t]*/g, ' ');
  const segments: Segment[] = [];
  let last = 0;
  for (const m of value.matchAll(ENCODED_WORD)) {
    const start = m.index ?? 0;
    const between = value.slice(last, start);
    const prev = segments[segments.length - 1];
    // whitespace between two encoded words is not part of the text
    if (between && !(prev?.encoded && /^\s*$/.test(between))) {
      segments.push({ bytes: bytesOf(between), encoded: false });
    }
    const charset = (m[1] as string).replace(/\*.*$/, '');
    const bytes = (m[2] as string).toUpperCase() === 'B' ? decodeB(m[3] as string) : decodeQ(m[3] as string);
    const tail = segments[segments.length - 1];
    if (tail?.encoded && tail.charset?.toLowerCase() === charset.toLowerCase()) {
      tail.bytes = Buffer.concat([tail.bytes, bytes]);
    } else segments.push({ charset, bytes, encoded: true });
    last = start + m[0].length;
  }
  if (last < value.length) segments.push({ bytes: bytesOf(value.slice(last)), encoded: false });
  return (
    segments
      .map((s) => decodeText(s.bytes, s.charset).text)
      .join('')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: decoded words may carry control characters; drop them.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
  );
}

/** The highest UTF-16 code unit in `s` (0 for ''). */
export function maxCharCode(s: string): number {
  let max = 0;
  for (let i = 0; i < s.length; i++) max = Math.max(max, s.charCodeAt(i));
  return max;
}

export interface Mailbox {
  address: string;
  name?: string;
}

const ADDRESS = /^[^\s@<>()",;:\\]+@(?:[^\s@<>()",;:\\]+\.[^\s@<>()",;:\\]+|localhost)$/i;

/**
 * The first usable mailbox of an address header value (`From`, `Reply-To`, `Sender`), raw as in the header. The address
 * comes from mailparser's address parser; the display name is decoded from the raw bytes by `decodeHeaderValue`,
 * because GBK names often arrive as undeclared 8-bit bytes or under a wrong encoded-word charset.
 */
export function parseMailbox(raw: string | undefined): Mailbox | undefined {
  if (!raw) return undefined;
  const parsed = parseAddressHeader(raw, { flatten: true, decodePunycode: false });
  const address = parsed.value.find((v) => v.address && ADDRESS.test(v.address))?.address;
  if (!address || address.length > 254) return undefined;
  const first = parsed.value.find((v) => v.address === address);
  const decoded = decodeHeaderValue(raw);
  let name: string | undefined;
  const at = decoded.toLowerCase().indexOf(`<${address.toLowerCase()}>`);
  if (at > 0) name = decoded.slice(0, at);
  else if (maxCharCode(raw) < 0x80) name = first?.name;
  else name = /\(([^()]*)\)/.exec(decoded)?.[1];
  const clean = name
    ?.replace(/^\s*"|"\s*$/g, '')
    .replace(/\\(.)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  return clean && !clean.includes('\ufffd') && clean !== address ? { address, name: clean } : { address };
}

/** Message-IDs of a `Message-ID`, `In-Reply-To` or `References` header, in order, as `<id>`. */
export function parseMessageIds(raw: string | undefined, max = 50): string[] {
  if (!raw) return [];
  const ids: string[] = [];
  const bracketed = raw.match(/<[^<>\s]{1,250}>/g);
  if (bracketed) ids.push(...bracketed);
  else {
    for (const token of raw.split(/[\s,]+/)) {
      if (/^[^<>\s]{1,250}@[^<>\s]{1,250}$/.test(token)) ids.push(`<${token}>`);
    }
  }
  return [...new Set(ids)].slice(0, max);
}
