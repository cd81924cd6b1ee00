/**
 * Character set decoding for mail text, with detection for the labels Chinese mail gets wrong.
 *
 * Mail in China arrives as GB2312/GBK/GB18030 or Big5, often labelled with an alias (`x-gbk`, `gb_2312-80`), with
 * GBK characters under a GB2312 label, or with no label at all (an old client that writes GBK and says us-ascii).
 * We decode the GB family as GB18030 (a superset of both), and when the label is missing, unknown or plainly wrong,
 * we try strict UTF-8 first and then score the GB18030, Big5 and Windows-1252 readings by how many of their characters
 * fall in each standard's frequently used range (GB2312 level 1, Big5 常用字): the right reading scores near 1,
 * a wrong one lands in rare characters, kana, private use or replacement characters.
 */
import iconv from 'iconv-lite';

export type CharsetKind = 'none' | 'utf-8' | 'gb18030' | 'big5' | 'latin' | 'other' | 'unknown';

export interface CharsetLabel {
  kind: CharsetKind;
  /** The iconv-lite name used to decode (`gb18030`, `big5hkscs`, `windows-1252`, ...), when the label is usable. */
  name?: string;
  /** The label as written, trimmed. */
  label?: string;
}

export interface DecodedText {
  text: string;
  /** The charset the text was decoded with. */
  charset: string;
  /** True when that is not what the label said (missing, unknown or wrong label). */
  detected: boolean;
}

const GB_LABELS = new Set([
  'gb2312',
  'gb_2312',
  'gb_2312-80',
  'gb2312-80',
  'gb231280',
  'csgb2312',
  'csiso58gb231280',
  'iso-ir-58',
  'chinese',
  'gbk',
  'x-gbk',
  'cp936',
  'ms936',
  'windows-936',
  'euc-cn',
  'euccn',
  'x-euc-cn',
  'gb18030',
  'gb-18030',
  'gb18030-2000',
  'gb18030-2005',
  'gb18030-2022',
]);
const BIG5_LABELS = new Set([
  'big5',
  'big-5',
  'big-five',
  'bigfive',
  'big5-hkscs',
  'big5hkscs',
  'cn-big5',
  'csbig5',
  'x-x-big5',
  'x-big5',
  'cp950',
  'ms950',
  'windows-950',
]);
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8', 'x-unicode20utf8', 'unicode-2-0-utf-8']);
const ASCII_LABELS = new Set(['us-ascii', 'ascii', 'ansi_x3.4-1968', 'iso646-us', 'us', '7bit', 'iso-ir-6', 'default']);
const LATIN_LABELS = new Set([
  'iso-8859-1',
  'iso8859-1',
  'iso_8859-1',
  'latin1',
  'l1',
  'cp1252',
  'windows-1252',
  'x-cp1252',
  'cp819',
  'ibm819',
]);
/** iconv-lite codecs that are not text a message body may be read as: UTF-7 smuggles markup, the rest are transfer encodings. */
const REFUSED = /^(?:(?:cs)?unicode11)?utf7(?:imap)?$|^base64$|^hex$|^binary$/;

/** Reads a charset label as written in a header (`"GB2312"`, `charset=us-ascii`, `x-gbk`, `utf-8*zh`). */
export function classifyCharset(raw: string | undefined | null): CharsetLabel {
  const label = (raw ?? '')
    .trim()
    .replace(/^["']+|["']+$/g, '')
    .replace(/^charset\s*=\s*/i, '')
    .replace(/^["']+|["']+$/g, '')
    .replace(/\*.*$/, '')
    .trim();
  const key = label.toLowerCase();
  if (!key) return { kind: 'none' };
  if (GB_LABELS.has(key)) return { kind: 'gb18030', name: 'gb18030', label };
  if (BIG5_LABELS.has(key)) return { kind: 'big5', name: 'big5hkscs', label };
  if (UTF8_LABELS.has(key)) return { kind: 'utf-8', name: 'utf-8', label };
  if (ASCII_LABELS.has(key)) return { kind: 'none', label };
  if (LATIN_LABELS.has(key)) return { kind: 'latin', name: 'windows-1252', label };
  if (REFUSED.test(key.replace(/[^a-z0-9]/g, ''))) return { kind: 'unknown', label };
  if (iconv.encodingExists(key)) return { kind: 'other', name: key, label };
  return { kind: 'unknown', label };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function tryUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

/** Weight (0..10) of each BMP code point in a standard's frequently used ranges, built once from iconv-lite's own tables. */
type WeightTable = Uint8Array;
let gbWeights: WeightTable | undefined;
let big5Weights: WeightTable | undefined;

function fillRows(
  table: WeightTable,
  codec: string,
  leads: [number, number],
  trails: [number, number][],
  weight: number,
): void {
  // one decode per run of rows: "lead trail SP lead trail SP ...", split on the spaces (0x20 is never a trail byte)
  const bytes: number[] = [];
  for (let lead = leads[0]; lead <= leads[1]; lead++) {
    for (const [lo, hi] of trails) for (let trail = lo; trail <= hi; trail++) bytes.push(lead, trail, 0x20);
  }
  for (const ch of iconv.decode(Buffer.from(bytes), codec).split(' ')) {
    if (ch.length !== 1) continue;
    const cp = ch.charCodeAt(0);
    if (cp < 0x80 || cp === 0xfffd || (cp >= 0xe000 && cp <= 0xf8ff)) continue;
    if ((table[cp] as number) < weight) table[cp] = weight;
  }
}

function gbTable(): WeightTable {
  if (gbWeights) return gbWeights;
  const t = new Uint8Array(0x10000);
  const trail: [number, number][] = [[0xa1, 0xfe]];
  fillRows(t, 'gb18030', [0xa1, 0xa1], trail, 10); // 、。·ˉ“” ...
  fillRows(t, 'gb18030', [0xa2, 0xa2], trail, 3);
  fillRows(t, 'gb18030', [0xa3, 0xa3], trail, 10); // fullwidth ，！？：
  fillRows(t, 'gb18030', [0xa4, 0xa9], trail, 2); // kana, Greek, Cyrillic, pinyin, box drawing
  fillRows(t, 'gb18030', [0xb0, 0xd7], trail, 10); // level 1: the 3,755 common characters
  fillRows(t, 'gb18030', [0xd8, 0xf7], trail, 3); // level 2
  gbWeights = t;
  return t;
}

function big5Table(): WeightTable {
  if (big5Weights) return big5Weights;
  const t = new Uint8Array(0x10000);
  const trail: [number, number][] = [
    [0x40, 0x7e],
    [0xa1, 0xfe],
  ];
  fillRows(t, 'big5hkscs', [0xa1, 0xa1], trail, 10); // ，、。．
  fillRows(t, 'big5hkscs', [0xa2, 0xa2], trail, 3);
  fillRows(t, 'big5hkscs', [0xa3, 0xa3], trail, 2); // Greek, 注音
  fillRows(t, 'big5hkscs', [0xa4, 0xc6], trail, 10); // 常用國字 (5,401)
  fillRows(t, 'big5hkscs', [0xc9, 0xf9], trail, 3); // 次常用國字
  big5Weights = t;
  return t;
}

const isPrivateUse = (cp: number) => cp >= 0xe000 && cp <= 0xf8ff;

/** Mean plausibility of the non-ASCII characters of a reading: about 1 for the right charset, near or below 0 for a wrong one. */
function scoreCjk(text: string, table: WeightTable): number {
  let n = 0;
  let sum = 0;
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.charCodeAt(i);
    if (cp < 0x80) continue;
    n++;
    if (cp === 0xfffd || cp < 0xa0 || isPrivateUse(cp)) {
      bad++;
      sum -= cp === 0xfffd ? 30 : 20;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // a GB18030 four-byte sequence outside the BMP: legitimate but rare
      i++;
    } else {
      const w = table[cp] as number;
      // a Han character outside the common ranges (GBK extension, HKSCS) is real but rare
      sum += w === 0 && cp >= 0x4e00 && cp <= 0x9fff ? 1 : w;
    }
  }
  if (n === 0) return 0;
  // every byte pair formed a character: a small bonus that settles short samples against a Latin reading
  return sum / (10 * n) + (bad === 0 ? 0.1 : 0);
}

const LATIN_PUNCTUATION = '\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u20ac\u00a0\u00b0\u00a9\u00ab\u00bb';

const LATIN_COMMON = 'àáâäãåçèéêëìíîïñòóôöõøùúûüýÿßæÄÖÜÉÅØÆÇ';

function scoreLatin(text: string): number {
  let n = 0;
  let sum = 0;
  let prevHigh = false;
  for (let i = 0; i < text.length; i++) {
    const cp = text.charCodeAt(i);
    if (cp < 0x80) {
      prevHigh = false;
      continue;
    }
    n++;
    const ch = text[i] as string;
    const letter = (cp >= 0xc0 && cp <= 0xff && cp !== 0xd7 && cp !== 0xf7) || cp === 0x152 || cp === 0x153;
    if (cp === 0xfffd || (cp >= 0x80 && cp < 0xa0)) sum -= 3;
    // Western text rarely puts two accented letters side by side; GB and Big5 read as Latin always do
    else if (prevHigh) sum += letter ? 0.1 : 0;
    else if (LATIN_COMMON.includes(ch) || LATIN_PUNCTUATION.includes(ch)) sum += 0.7;
    else if (letter) sum += 0.3;
    prevHigh = true;
  }
  return n === 0 ? 0 : sum / n;
}

function scoreUtf8Lossy(text: string): number {
  let n = 0;
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.charCodeAt(i);
    if (cp < 0x80) continue;
    n++;
    if (cp === 0xfffd) bad++;
  }
  return n === 0 ? 0 : 1 - (4 * bad) / n;
}

/** Bytes looked at when scoring: enough for a verdict, bounded for a 25 MB body. */
const SAMPLE_BYTES = 64 * 1024;

function sampleOf(bytes: Uint8Array): Uint8Array {
  if (bytes.length <= SAMPLE_BYTES) return bytes;
  // cut after an ASCII byte so that the sample does not end inside a character
  let end = SAMPLE_BYTES;
  while (end > SAMPLE_BYTES - 64 && (bytes[end - 1] as number) >= 0x80) end--;
  return bytes.subarray(0, end);
}

interface Candidate {
  name: string;
  score: number;
}

function scoreCandidates(sample: Uint8Array, label: CharsetLabel): Candidate[] {
  const buf = Buffer.from(sample.buffer, sample.byteOffset, sample.byteLength);
  const prior = (kind: CharsetKind) => (label.kind === kind ? 0.15 : 0);
  // the GB family gets a small bonus of its own: this is mainland 12345 mail, and very short samples are ambiguous
  const gb: Candidate = {
    name: 'gb18030',
    score: scoreCjk(iconv.decode(buf, 'gb18030'), gbTable()) + prior('gb18030') + 0.05,
  };
  // A perfect GB reading (every character common, none broken) cannot be beaten by Big5 (at most 1.1) or Latin
  // (at most 0.85) unless the label says Big5: skip decoding those (Big5's tables alone take ~100 ms to load).
  if (gb.score >= 1.1 && label.kind !== 'big5') return [gb];
  return [
    { name: 'utf-8', score: scoreUtf8Lossy(buf.toString('utf8')) + prior('utf-8') },
    gb,
    { name: 'big5hkscs', score: scoreCjk(iconv.decode(buf, 'big5hkscs'), big5Table()) + prior('big5') },
    { name: 'windows-1252', score: scoreLatin(iconv.decode(buf, 'windows-1252')) + prior('latin') },
  ].sort((a, b) => b.score - a.score);
}

function decodeWith(bytes: Uint8Array, name: string): string {
  if (name === 'utf-8') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), name);
}

/** A `<meta charset>` or `<meta http-equiv content="...charset=...">` in the first bytes of an HTML body. */
export function sniffHtmlCharset(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 2048)).toString('latin1');
  if (!/<meta/i.test(head)) return undefined;
  const m = /<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})/i.exec(head);
  return m?.[1];
}

/**
 * Decodes text bytes under a declared charset label, detecting the charset when the label is missing, unknown,
 * ASCII on non-ASCII bytes, or contradicted by the bytes. Never throws.
 */
export function decodeText(bytes: Uint8Array, declared?: string | null): DecodedText {
  let label = classifyCharset(declared);
  if (label.kind === 'none' || label.kind === 'unknown') {
    const meta = sniffHtmlCharset(bytes);
    if (meta) {
      const fromMeta = classifyCharset(meta);
      if (fromMeta.kind !== 'none' && fromMeta.kind !== 'unknown') label = fromMeta;
    }
  }
  const used = (name: string, text: string): DecodedText => ({ text, charset: name, detected: name !== label.name });

  if (label.kind === 'other' && label.name && /^(?:utf-?(?:16|32)|ucs-?[24])/i.test(label.name)) {
    return used(label.name, iconv.decode(Buffer.from(bytes), label.name));
  }
  if (isAscii(bytes)) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    return { text, charset: label.name ?? 'us-ascii', detected: false };
  }
  const utf8 = tryUtf8(bytes);
  // valid UTF-8 wins, unless it only "decodes" to C1 control characters, which no text contains
  if (utf8 !== undefined && !/[\u0080-\u009f]/.test(utf8)) return used('utf-8', utf8);

  const candidates = scoreCandidates(sampleOf(bytes), label);
  const best = candidates[0] as Candidate;
  if (label.kind === 'other' && label.name) {
    // A label we cannot score (KOI8-R, Shift_JIS, ...) stands unless the bytes read as Chinese beyond doubt.
    const cjk = candidates.find((c) => c.name === 'gb18030' || c.name === 'big5hkscs');
    if (!(cjk && cjk === best && cjk.score >= 0.85)) return used(label.name, decodeWith(bytes, label.name));
  }
  return used(best.name, decodeWith(bytes, best.name));
}
