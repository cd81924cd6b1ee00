/**
 * Text similarity for Chinese (no spaces) and English, without a dictionary: normalize, cut into shingles
 * (CJK runs → character unigrams + bigrams; latin runs → words), then compare as sets.
 * A MinHash signature (`permutations` 32-bit values, one-permutation hashing with densification: one hash per shingle,
 * computed on char codes) is the fixed-size form a store keeps; short texts also keep their whole shingle set (sorted
 * hashes), so two short reports get an exact Jaccard/containment instead of an estimate. Signatures written by the
 * earlier k-permutation version are recognised and compared in their own format (`compareSketches`).
 * Pure and deterministic: the same text gives the same sketch on every machine (no Math.random, no native code).
 */

import { nfkcLower, nfkcLowerJoined } from '../text/fold.ts';

/** 32-bit finalizer of MurmurHash3: a bijection on uint32, so `fmix32(h ^ seed)` is a cheap seeded permutation. */
export function fmix32(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** MurmurHash3's scramble of one 32-bit block. */
function scramble(k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  return Math.imul(x, 0x1b873593);
}

/** MurmurHash3's mix of a scrambled block into the running hash. */
function mix(h: number, k: number): number {
  const x = h ^ k;
  return (Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64) | 0;
}

/** The block of code units i and i + 1 (two UTF-16 units, little-endian). */
const blockAt = (s: string, i: number): number => (s.charCodeAt(i) & 0xffff) | ((s.charCodeAt(i + 1) & 0xffff) << 16);

/** MurmurHash3 (x86, 32-bit) over the UTF-16 code units of `s`. */
export function hash32(s: string, seed = 0): number {
  let h = seed >>> 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) h = mix(h, scramble(blockAt(s, i)));
  if (i < n) h ^= scramble(s.charCodeAt(i) & 0xffff);
  return fmix32(h ^ (n * 2));
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `h.toString(16).padStart(8, '0')` for a uint32, by table (number-to-string in another radix is slow in V8). */
export function hex8(h: number): string {
  return HEX_BYTE[h >>> 24]! + HEX_BYTE[(h >>> 16) & 255]! + HEX_BYTE[(h >>> 8) & 255]! + HEX_BYTE[h & 255]!;
}

/**
 * A 64-bit hex digest made of two seeded 32-bit hashes: for content hashes and keys, not for secrets.
 * `hex8(hash32(s, 0x9747b28c)) + hex8(hash32(s, 0x5bd1e995))`, both hashes in one pass over the string.
 */
export function hash64hex(s: string): string {
  let a = 0x9747b28c;
  let b = 0x5bd1e995;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const k = scramble(blockAt(s, i));
    a = mix(a, k);
    b = mix(b, k);
  }
  if (i < n) {
    const k = scramble(s.charCodeAt(i) & 0xffff);
    a ^= k;
    b ^= k;
  }
  return hex8(fmix32(a ^ (n * 2))) + hex8(fmix32(b ^ (n * 2)));
}

/**
 * `hash64hex(parts.join(''))`, without joining: the blocks of two code units run on across the parts (a part of odd
 * length leaves its last unit to pair with the next part's first).
 */
export function hash64hexOfParts(parts: readonly string[]): string {
  let a = 0x9747b28c;
  let b = 0x5bd1e995;
  let n = 0;
  /** A unit waiting for the next one to make a block, or -1. */
  let pending = -1;
  for (const s of parts) {
    const m = s.length;
    n += m;
    let i = 0;
    if (pending >= 0 && m > 0) {
      const k = scramble(pending | ((s.charCodeAt(0) & 0xffff) << 16));
      a = mix(a, k);
      b = mix(b, k);
      pending = -1;
      i = 1;
    }
    for (; i + 1 < m; i += 2) {
      const k = scramble(blockAt(s, i));
      a = mix(a, k);
      b = mix(b, k);
    }
    if (i < m) pending = s.charCodeAt(i) & 0xffff;
  }
  if (pending >= 0) {
    const k = scramble(pending);
    a ^= k;
    b ^= k;
  }
  return hex8(fmix32(a ^ (n * 2))) + hex8(fmix32(b ^ (n * 2)));
}

const URL_RE = /(?:https?:\/\/|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+/gi;
const EMAIL_RE = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
/** Mobile numbers (also masked ones like 138****1234), landlines with an area code, and any run of ≥7 digits (ids). */
const PHONE_RE = /(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?[\d*]{4}){2}(?!\d)|(?<!\d)0\d{2,3}[ -]?\d{7,8}(?!\d)|\d{7,}/g;
/** Excel export artifacts seen in real message dumps. */
const ARTIFACT_RE = /_x000[0-9a-f]_/gi;

const SEPARATOR_RE = /^[\p{P}\p{S}\s]$/u;
/** Per BMP code unit: 0 not looked up yet, 1 separator, 2 not (filled on first sight: no start-up cost). */
const separatorTable = new Uint8Array(0x10000);

/** Whether a code point is punctuation, a symbol or whitespace (`[\p{P}\p{S}\s]`), from a table after first sight. */
export function isSeparator(cp: number): boolean {
  // CJK unified ideographs are letters: no table read (its lines for 20,000 ideographs do not stay in cache).
  if (cp >= 0x4e00 && cp <= 0x9fff) return false;
  if (cp > 0xffff) return SEPARATOR_RE.test(String.fromCodePoint(cp));
  const known = separatorTable[cp]!;
  if (known !== 0) return known === 1;
  const sep = SEPARATOR_RE.test(String.fromCharCode(cp));
  separatorTable[cp] = sep ? 1 : 2;
  return sep;
}

/** The code point at `i` (a surrogate pair as one; a lone surrogate as itself). */
export function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  }
  return c;
}

/** The runs `collapseSeparators` keeps, written here one after another (grown on demand). */
let collapseBuf = new Uint16Array(1024);
const utf16 = new TextDecoder('utf-16le');

/**
 * `s.replace(/[\p{P}\p{S}\s]+/gu, ' ').trim()`: the runs between separators, joined by one space. One pass, the
 * kept units written to a scratch buffer and made a string once (not a chain of slices joined piece by piece, which
 * the sketch's first read then copies flat again). A text with a surrogate takes the slices: decoding would turn a lone
 * one into U+FFFD.
 */
export function collapseSeparators(s: string): string {
  const n = s.length;
  if (collapseBuf.length < n) collapseBuf = new Uint16Array(Math.max(n, collapseBuf.length * 2));
  const buf = collapseBuf;
  let m = 0;
  let sawSeparator = false;
  let space = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return collapseBySlices(s);
    const known = c >= 0x4e00 && c <= 0x9fff ? 2 : separatorTable[c]!;
    if (known === 1 || (known === 0 && isSeparator(c))) {
      sawSeparator = true;
      space = m > 0;
      continue;
    }
    if (space) {
      buf[m++] = 0x20;
      space = false;
    }
    buf[m++] = c;
  }
  if (!sawSeparator) return s;
  return m === 0 ? '' : utf16.decode(buf.subarray(0, m));
}

/** `collapseSeparators` by slices of `s`, for a text with surrogates (pairs are one code point, and a separator or not). */
function collapseBySlices(s: string): string {
  let out = '';
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; ) {
    const c = s.charCodeAt(i);
    const cp = c >= 0xd800 && c <= 0xdbff ? codePointAt(s, i) : c;
    const w = cp > 0xffff ? 2 : 1;
    const known = cp >= 0x4e00 && cp <= 0x9fff ? 2 : cp <= 0xffff ? separatorTable[cp]! : 0;
    if (known === 1 || (known === 0 && isSeparator(cp))) {
      if (i > start) out = out === '' ? s.slice(start, i) : `${out} ${s.slice(start, i)}`;
      start = i + w;
    }
    i += w;
  }
  if (start === 0) return s;
  if (start < n) out = out === '' ? s.slice(start) : `${out} ${s.slice(start)}`;
  return out;
}

const anyOfCache = new WeakMap<readonly string[], { phrases: string[]; re: RegExp }>();

/** A pattern matching any of the (non-empty) phrases, cached per list (and rebuilt if the list was changed since). */
function anyOf(phrases: readonly string[]): RegExp {
  const cached = anyOfCache.get(phrases);
  if (cached && cached.phrases.length === phrases.length && cached.phrases.every((p, i) => p === phrases[i]))
    return cached.re;
  const alts = phrases.filter((p) => p !== '').map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  const re = alts.length > 0 ? new RegExp(alts.join('|')) : /(?!)/;
  anyOfCache.set(phrases, { phrases: [...phrases], re });
  return re;
}

/**
 * Full-width → half-width (NFKC), lowercase, links/emails/phone digits removed, punctuation → one space,
 * and the given boilerplate phrases (尊敬的领导, 您好 ...) removed. Keeps CJK, letters and short numbers (door numbers).
 * An array of parts is normalized as the parts joined by one space.
 */
export function normalizeText(input: string | readonly string[], stopPhrases: readonly string[] = []): string {
  // Parts (title, text) are the text they make joined by a space, folded part by part (see `nfkcLowerJoined`).
  return normalizeLowered(typeof input === 'string' ? nfkcLower(input) : nfkcLowerJoined(input, ' '), stopPhrases);
}

/**
 * `normalizeText(text, stopPhrases)` given `lowered = nfkcLower(text)`: for a caller that folded the text already
 * (`prepareReport` folds a report's parts once, for the sketch and the place keys).
 */
export function normalizeLowered(lowered: string, stopPhrases: readonly string[] = []): string {
  let t = lowered;
  // Each pattern needs a literal that is rare in a message: look for it before running the pattern.
  if (t.includes('_x000')) t = t.replace(ARTIFACT_RE, ' ');
  if (t.includes('http') || t.includes('www.')) t = t.replace(URL_RE, ' ');
  if (t.includes('@')) t = t.replace(EMAIL_RE, ' ');
  t = t.replace(PHONE_RE, ' ');
  // One pass tells whether any phrase is there at all (most short reports hold none); removing one only ever leaves
  // a space, so a text holding none before the loop below would go through it unchanged.
  if (stopPhrases.length > 0 && anyOf(stopPhrases).test(t)) {
    // `replaceAll` with a string: the same non-overlapping occurrences, left to right, as split(p).join(' ').
    for (const p of stopPhrases) if (p && t.includes(p)) t = t.replaceAll(p, ' ');
  }
  return collapseSeparators(t);
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff]/;
const EN_STOP = new Set([
  'a',
  'an',
  'the',
  'is',
  'are',
  'was',
  'were',
  'be',
  'been',
  'on',
  'in',
  'at',
  'of',
  'to',
  'and',
  'or',
  'for',
  'with',
  'there',
  'this',
  'that',
  'it',
  'its',
  'my',
  'our',
  'we',
  'i',
  'me',
  'please',
  'near',
  'from',
  'by',
  'has',
  'have',
  'had',
  'not',
  'no',
  'very',
]);

function stemEn(w: string): string {
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 3 && w.endsWith('ed')) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

/**
 * Shingles of a normalized text. CJK: every character and every adjacent pair inside a run (a sentence of 20 characters
 * gives 39 shingles); unigrams keep short paraphrases ("水管爆了" / "爆管") comparable, bigrams keep word order.
 * Latin and digits: stemmed words minus stopwords, plus adjacent word pairs.
 */
export function shingles(normalized: string): string[] {
  const out: string[] = [];
  let run = '';
  let words: string[] = [];
  const flushCjk = () => {
    const chars = [...run];
    for (let i = 0; i < chars.length; i++) {
      out.push(chars[i]!);
      if (i + 1 < chars.length) out.push(chars[i]! + chars[i + 1]!);
    }
    run = '';
  };
  const flushWords = () => {
    const ws = words.filter((w) => !EN_STOP.has(w)).map(stemEn);
    for (let i = 0; i < ws.length; i++) {
      out.push(`w:${ws[i]}`);
      if (i + 1 < ws.length) out.push(`w:${ws[i]} ${ws[i + 1]}`);
    }
    words = [];
  };
  let word = '';
  for (const ch of normalized) {
    if (CJK.test(ch)) {
      if (word) {
        words.push(word);
        word = '';
      }
      if (words.length) flushWords();
      run += ch;
    } else if (/[\p{L}\p{N}]/u.test(ch)) {
      if (run) flushCjk();
      word += ch;
    } else {
      if (run) flushCjk();
      if (word) {
        words.push(word);
        word = '';
      }
    }
  }
  if (run) flushCjk();
  if (word) words.push(word);
  if (words.length) flushWords();
  return out;
}

/** The compact form of a text that a store keeps and the engine compares. */
export interface TextSketch {
  /**
   * MinHash signature by one-permutation hashing: the shingle hashes are split by value into `sig.length` equal ranges
   * (bins) and `sig[i]` is the smallest hash in bin i. An empty bin borrows from another bin (optimal densification),
   * its value moved into bin i's range. So every value lies in its own bin: `binOf(sig[i], k) === i`, which tells this
   * format apart from the earlier k-permutation signatures (see `compareSketches`). 0xffffffff everywhere when empty.
   */
  sig: Uint32Array;
  /** Number of distinct shingles. */
  size: number;
  /** Sorted distinct shingle hashes, kept only when `size ≤ maxExact` (short texts: exact comparison). */
  set?: Uint32Array;
}

/** hash32 of a one-code-unit string (a CJK character), without building the string. */
function hashUnit(c: number): number {
  let k = Math.imul(c, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  return fmix32(k ^ 2);
}

/** hash32 of a two-code-unit string (a CJK bigram), without building the string. */
function hashPair(a: number, b: number): number {
  let k = Math.imul(a | (b << 16), 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = (k << 13) | (k >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  return fmix32(h ^ 4);
}

const isCjkUnit = (c: number) =>
  (c >= 0x3400 && c <= 0x9fff) || (c >= 0x3040 && c <= 0x30ff) || (c >= 0xf900 && c <= 0xfaff);
const WORD_CHAR_AT = /[\p{L}\p{N}]/uy;

/** Shingle hashes are collected here (grown on demand): no array of strings per text. */
let scratch = new Uint32Array(1024);

function ensureScratch(n: number): Uint32Array {
  if (scratch.length < n) scratch = new Uint32Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * Per code unit: the stamp of the last text whose unigram of that unit was collected (see `shingleHashes`). One byte
 * each (64 KB): the stamps go round every 255 texts, clearing the table.
 */
const unitStamps = new Uint8Array(0x10000);
let unitStamp = 0;

function nextUnitStamp(): number {
  if (++unitStamp === 256) {
    unitStamps.fill(0);
    unitStamp = 1;
  }
  return unitStamp;
}

/**
 * The hashes of `flushWords` in `shingles` (stemmed words minus stopwords, each followed by its pair with the next
 * kept word), in the same order, without the filtered and mapped arrays.
 */
function pushWordHashes(words: string[], out: Uint32Array, n: number): number {
  let prev: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    // A number (the most common word in a Chinese message) is no stopword and has no suffix to stem.
    const digits = isDigits(w);
    if (!digits && EN_STOP.has(w)) continue;
    const stem = digits ? w : stemEn(w);
    if (prev !== undefined) out[n++] = hashWordShingle(prev, stem);
    out[n++] = hashWordShingle(stem);
    prev = stem;
  }
  return n;
}

function isDigits(w: string): boolean {
  for (let i = 0; i < w.length; i++) {
    const c = w.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** MurmurHash3's state after the block "w:" (seed 0): every word shingle starts with it. */
const WORD_PREFIX_STATE = mix(0, scramble(0x77 | (0x3a << 16)));

/**
 * `hash32(`w:${a}`)`, or with `b` `hash32(`w:${a} ${b}`)`: the shingle strings of `shingles`, hashed without being
 * built (the blocks of two code units run on across the pieces).
 */
function hashWordShingle(a: string, b?: string): number {
  let h = WORD_PREFIX_STATE;
  let pending = -1;
  let n = 2 + a.length;
  for (let i = 0; i < a.length; i++) {
    const u = a.charCodeAt(i);
    if (pending < 0) pending = u;
    else {
      h = mix(h, scramble(pending | (u << 16)));
      pending = -1;
    }
  }
  if (b !== undefined) {
    n += 1 + b.length;
    for (let i = -1; i < b.length; i++) {
      const u = i < 0 ? 0x20 : b.charCodeAt(i);
      if (pending < 0) pending = u;
      else {
        h = mix(h, scramble(pending | (u << 16)));
        pending = -1;
      }
    }
  }
  if (pending >= 0) h ^= scramble(pending);
  return fmix32(h ^ (n * 2));
}

/**
 * The hashes `hash32(s)` of every shingle `s` of `shingles(normalized)` (same order, duplicates kept), computed on char
 * codes: CJK unigrams and bigrams are hashed inline, only latin/digit words become strings. Writes into the module's
 * scratch buffer and returns it with the count.
 */
function shingleHashes(t: string): { buf: Uint32Array; n: number } {
  // At most 2 hashes per code unit: a CJK character gives a unigram and a bigram, a word (≥ 1 unit) itself and a pair.
  const out = ensureScratch(2 * t.length + 2);
  let n = 0;
  let prev = -1;
  let wordStart = -1;
  const stamp = nextUnitStamp();
  const words: string[] = [];
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (isCjkUnit(c)) {
      if (wordStart >= 0) {
        words.push(t.slice(wordStart, i));
        wordStart = -1;
      }
      if (words.length > 0) {
        n = pushWordHashes(words, out, n);
        words.length = 0;
      }
      if (prev >= 0) out[n++] = hashPair(prev, c);
      // A character seen before in this text gave this unigram hash already: the sketch keeps distinct hashes only,
      // so a repeat is left out here (no hash, no probe) instead of being dropped there.
      if (unitStamps[c] !== stamp) {
        unitStamps[c] = stamp;
        out[n++] = hashUnit(c);
      }
      prev = c;
      continue;
    }
    prev = -1;
    let word: boolean;
    let width = 1;
    if (c < 0x80) word = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
    else {
      WORD_CHAR_AT.lastIndex = i;
      word = WORD_CHAR_AT.test(t);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length) {
        const d = t.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) width = 2;
      }
    }
    if (word) {
      if (wordStart < 0) wordStart = i;
    } else if (wordStart >= 0) {
      words.push(t.slice(wordStart, i));
      wordStart = -1;
    }
    i += width - 1;
  }
  if (wordStart >= 0) words.push(t.slice(wordStart));
  if (words.length > 0) n = pushWordHashes(words, out, n);
  return { buf: out, n };
}

/** The bin of a 32-bit hash among k equal value ranges. */
export function binOf(h: number, k: number): number {
  return k === 64 ? h >>> 26 : Math.floor((h * k) / 4294967296);
}

const binStart = (i: number, k: number) => Math.ceil((i * 4294967296) / k);

/** Open-addressing set of the distinct hashes of one text: slots are live when their stamp is the current generation. */
let slotValues = new Uint32Array(2048);
let slotStamps = new Uint32Array(2048);
let generation = 0;

/**
 * The sketch of the hashes in `buf[0..n)` (duplicates allowed). At most `maxExact` hashes (most reports): sorted, see
 * `shortSketch`. More: `buf` is overwritten with the distinct ones, in first seen order, in one pass: a reused hash
 * table drops repeats (the values are hashes already: their low bits are the slot), and each new hash updates the
 * minimum of its bin. O(n + k) instead of O(n·k) for k permutations.
 */
function sketchOfHashes(buf: Uint32Array, n: number, k: number, maxExact: number): TextSketch {
  if (n <= maxExact && n <= 4096) return shortSketch(buf, n, k);
  let cap = 2048;
  while (cap < 2 * n) cap *= 2;
  if (slotValues.length < cap) {
    slotValues = new Uint32Array(cap);
    slotStamps = new Uint32Array(cap);
    generation = 0;
  }
  generation++;
  if (generation === 0xffffffff) {
    slotStamps.fill(0);
    generation = 1;
  }
  const gen = generation;
  const values = slotValues;
  const stamps = slotStamps;
  const mask = cap - 1;
  const sig = pooledU32(k).fill(0xffffffff);
  let sawMax = false;
  let size = 0;
  outer: for (let j = 0; j < n; j++) {
    const h = buf[j]!;
    let i = h & mask;
    while (stamps[i] === gen) {
      if (values[i] === h) continue outer;
      i = (i + 1) & mask;
    }
    stamps[i] = gen;
    values[i] = h;
    buf[size++] = h;
    const b = k === 64 ? h >>> 26 : binOf(h, k);
    if (h < sig[b]!) sig[b] = h;
    else if (h === 0xffffffff) sawMax = true;
  }
  if (size > 0) densify(sig, k, sawMax);
  // Only a short text's set is sorted (for the exact merge-intersection); a long one keeps its hashes in memory (not
  // in the store) for comparisons with entries of the earlier format.
  if (size <= maxExact) return { sig, size, set: sortedCopy(buf, size) };
  const sketch = { sig, size };
  fullHashes.set(sketch, buf.slice(0, size));
  return sketch;
}

/**
 * The typed arrays of a sketch (signature and set) are cut from shared 8 KB slabs, as Node's Buffer pool does for
 * small buffers: a typed array of its own costs a backing store outside the heap (allocated, tracked and freed by the
 * GC), which took more time than the rest of a short text's sketch. Views never overlap and a slab's bytes are zero
 * until handed out, so each array is what `new Uint32Array(n)` gives. A live sketch keeps its slab alive (at most
 * 8 KB); arrays above 2 KB get their own buffer.
 */
const SLAB_BYTES = 8192;
const SLAB_MAX_WORDS = SLAB_BYTES / 16;
let slab = new ArrayBuffer(SLAB_BYTES);
/** The whole current slab, to write a set in place before its length is known (see `shortSketch`). */
let slabWords = new Uint32Array(slab);
let slabUsed = 0;

/** Room for `n` ≤ SLAB_MAX_WORDS words after the used part of the current slab (a new slab if need be): its index. */
function slabRoom(n: number): number {
  if (slabUsed + n * 4 > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabWords = new Uint32Array(slab);
    slabUsed = 0;
  }
  return slabUsed >>> 2;
}

/** The next `n` words of the current slab (after `slabRoom(n)`), handed out. */
function slabTake(n: number): Uint32Array {
  const out = new Uint32Array(slab, slabUsed, n);
  slabUsed += n * 4;
  return out;
}

function pooledU32(n: number): Uint32Array {
  if (n > SLAB_MAX_WORDS) return new Uint32Array(n);
  slabRoom(n);
  return slabTake(n);
}

/** Counts per top-bits value (+1), for `sortInto`. */
const byTopBits = new Uint32Array(257);

/**
 * `buf.slice(0, n).sort()` for uniform hashes: counting sort by the top bits (about one value per run: 16 to 256
 * runs), then an insertion sort that only has to fix order inside each run. About twice as fast as the built-in sort
 * for the few hundred hashes of a short text; the built-in sort beyond 4096.
 */
function sortedCopy(buf: Uint32Array, n: number): Uint32Array {
  return n > 4096 ? buf.slice(0, n).sort() : sortInto(buf, n, pooledU32(n), 0);
}

/** The first `n` values of `buf` sorted into `out[at..at + n)` (n ≤ 4096, see `sortedCopy`); returns `out`. */
function sortInto(buf: Uint32Array, n: number, out: Uint32Array, at: number): Uint32Array {
  let bits = 4;
  while (bits < 8 && 1 << bits < n) bits++;
  const shift = 32 - bits;
  const runs = 1 << bits;
  const starts = byTopBits.fill(0, 0, runs + 1);
  for (let j = 0; j < n; j++) starts[(buf[j]! >>> shift) + 1]!++;
  starts[0] = at;
  for (let d = 1; d <= runs; d++) starts[d]! += starts[d - 1]!;
  for (let j = 0; j < n; j++) {
    const v = buf[j]!;
    out[starts[v >>> shift]!++] = v;
  }
  for (let j = at + 1; j < at + n; j++) {
    const v = out[j]!;
    let i = j - 1;
    if (out[i]! <= v) continue;
    while (i >= at && out[i]! > v) {
      out[i + 1] = out[i]!;
      i--;
    }
    out[i + 1] = v;
  }
  return out;
}

/** Drops the repeats from the sorted run `a[at..at + n)`, in place: the number of distinct values left at its start. */
function dedupeSorted(a: Uint32Array, at: number, n: number): number {
  const end = at + n;
  // Up to the first repeat nothing moves (a text's repeats are few: its repeated characters are left out already).
  let j = at + 1;
  while (j < end && a[j] !== a[j - 1]) j++;
  let w = j;
  for (; j < end; j++) if (a[j] !== a[w - 1]) a[w++] = a[j]!;
  return n === 0 ? 0 : w - at;
}

/** Sorted hashes of a short text too long for a slab, duplicates included (grown on demand). */
let sortScratch = new Uint32Array(0);

/**
 * `sketchOfHashes` for a text with at most `maxExact` hashes, duplicates included (most reports): its set is kept, so
 * instead of a hash table the hashes are sorted as they are (in place in the slab, where the set stays) and the
 * repeats dropped from the sorted run. The sorted set also gives the signature: bins are ranges of values, so a bin's
 * smallest hash is the first of the set in that bin.
 */
function shortSketch(buf: Uint32Array, n: number, k: number): TextSketch {
  const sig = pooledU32(k).fill(0xffffffff);
  let set: Uint32Array;
  let size: number;
  if (n <= SLAB_MAX_WORDS) {
    const at = slabRoom(n);
    const words = slabWords;
    sortInto(buf, n, words, at);
    size = dedupeSorted(words, at, n);
    // The repeats' words are not handed out: zero again, as a slab's free part is.
    words.fill(0, at + size, at + n);
    set = slabTake(size);
  } else {
    if (sortScratch.length < n) sortScratch = new Uint32Array(n);
    sortInto(buf, n, sortScratch, 0);
    size = dedupeSorted(sortScratch, 0, n);
    set = sortScratch.slice(0, size);
  }
  let bin = -1;
  for (let j = 0; j < size; j++) {
    const h = set[j]!;
    const b = k === 64 ? h >>> 26 : binOf(h, k);
    if (b !== bin) {
      sig[b] = h;
      bin = b;
    }
  }
  if (size > 0) densify(sig, k, set[size - 1] === 0xffffffff);
  return { sig, size, set };
}

/** Per signature size k: the first probes of every bin, and every bin's value range (computed once per k). */
interface BinPlan {
  probes: Uint16Array;
  start: Float64Array;
  width: Float64Array;
}
const PLANNED_PROBES = 8;
const binPlans = new Map<number, BinPlan>();

const probeOf = (i: number, a: number, k: number) =>
  binOf(fmix32((Math.imul(i + 1, 0x9e3779b9) + Math.imul(a + 1, 0x85ebca6b)) >>> 0), k);

function planFor(k: number): BinPlan {
  let plan = binPlans.get(k);
  if (!plan) {
    const probes = new Uint16Array(k * PLANNED_PROBES);
    const start = new Float64Array(k + 1);
    const width = new Float64Array(k);
    for (let i = 0; i < k; i++)
      for (let a = 0; a < PLANNED_PROBES; a++) probes[i * PLANNED_PROBES + a] = probeOf(i, a, k);
    for (let i = 0; i <= k; i++) start[i] = binStart(i, k);
    for (let i = 0; i < k; i++) width[i] = start[i + 1]! - start[i]!;
    plan = { probes, start, width };
    binPlans.set(k, plan);
  }
  return plan;
}

const filledScratch = new Uint8Array(256);

/**
 * Fills the empty bins of a one-permutation signature (0xffffffff, unless `sawMax` says the last bin holds that
 * hash) by optimal densification (Shrivastava 2017): each empty bin probes the bins in a fixed pseudo-random order
 * of its own and borrows the first filled one. Two texts agree in bin i when they borrow the same minimum.
 */
function densify(sig: Uint32Array, k: number, sawMax: boolean): void {
  const maxBin = binOf(0xffffffff, k);
  const plan = planFor(k);
  const filled = k <= filledScratch.length ? filledScratch.fill(0, 0, k) : new Uint8Array(k);
  let empty = 0;
  for (let i = 0; i < k; i++) {
    if (sig[i] !== 0xffffffff || (i === maxBin && sawMax)) filled[i] = 1;
    else empty++;
  }
  if (empty === 0) return;
  for (let i = 0; i < k; i++) {
    if (filled[i] === 1) continue;
    let donor = -1;
    for (let a = 0; a < PLANNED_PROBES && donor < 0; a++) {
      const j = plan.probes[i * PLANNED_PROBES + a]!;
      if (filled[j] === 1) donor = j;
    }
    for (let a = PLANNED_PROBES; a < 4096 && donor < 0; a++) {
      const j = probeOf(i, a, k);
      if (filled[j] === 1) donor = j;
    }
    for (let j = (i + 1) % k; donor < 0; j = (j + 1) % k) if (filled[j] === 1) donor = j;
    // Moved into bin i's range (so the signature keeps its format mark); the donor's bin is in the mix, so values
    // borrowed from different bins do not meet by chance.
    sig[i] = plan.start[i]! + (fmix32(sig[donor]! ^ Math.imul(donor + 1, 0x27d4eb2f)) % plan.width[i]!);
  }
}

/** The sketch of shingles given as strings (see `shingles`). */
export function sketchOfShingles(sh: readonly string[], permutations = 64, maxExact = 256): TextSketch {
  const buf = new Uint32Array(sh.length);
  for (let i = 0; i < sh.length; i++) buf[i] = hash32(sh[i]!);
  return sketchOfHashes(buf, sh.length, permutations, maxExact);
}

/** `sketchOfShingles(shingles(normalized))`, the same sketch, without building the shingle strings. */
export function sketchOfText(normalized: string, permutations = 64, maxExact = 256): TextSketch {
  const { buf, n } = shingleHashes(normalized);
  return sketchOfHashes(buf, n, permutations, maxExact);
}

/**
 * The sketch an index entry keeps: the same signature, size and set, without the in-memory hashes of a long text
 * (an index must not hold whole texts' hashes).
 */
export function storedSketch(s: TextSketch): TextSketch {
  return s.set ? { sig: s.sig, size: s.size, set: s.set } : { sig: s.sig, size: s.size };
}

const fullHashes = new WeakMap<TextSketch, Uint32Array>();
const legacyCache = new WeakMap<TextSketch, Uint32Array>();

/**
 * The k-permutation MinHash of the earlier format (`fmix32(h ^ seed_i)` minimised per seed): index entries written
 * before one-permutation hashing carry it, and a new sketch is compared with them through this form.
 */
export function legacySignature(distinct: Uint32Array, permutations = 64): Uint32Array {
  const seeds = seedsFor(permutations);
  const sig = new Uint32Array(permutations).fill(0xffffffff);
  for (let j = 0; j < distinct.length; j++) {
    const h = distinct[j]!;
    for (let i = 0; i < permutations; i++) {
      const v = fmix32(h ^ seeds[i]!);
      if (v < sig[i]!) sig[i] = v;
    }
  }
  return sig;
}

const seedCache = new Map<number, Uint32Array>();
function seedsFor(k: number): Uint32Array {
  let s = seedCache.get(k);
  if (!s) {
    s = new Uint32Array(k);
    // Fixed, documented seeds: the golden-ratio sequence run through the finalizer.
    for (let i = 0; i < k; i++) s[i] = fmix32(Math.imul(i + 1, 0x9e3779b9));
    seedCache.set(k, s);
  }
  return s;
}

/**
 * Whether a signature is in the one-permutation format (every value in its own bin). The earlier k-permutation
 * signatures hold minima of the whole hash range, which land in the top bins by chance only (< 2⁻²⁴ for four bins).
 */
export function isBinnedSignature(sig: Uint32Array): boolean {
  const k = sig.length;
  if (k < 4) return false;
  for (let i = k - 4; i < k; i++) if (binOf(sig[i]!, k) !== i) return false;
  return true;
}

/** The earlier-format signature of a new sketch, from its set or its in-memory hashes (undefined when neither). */
function legacyOf(s: TextSketch, k: number): Uint32Array | undefined {
  let sig = legacyCache.get(s);
  if (sig?.length === k) return sig;
  const hashes = s.set ?? fullHashes.get(s);
  if (!hashes) return undefined;
  sig = legacySignature(hashes, k);
  legacyCache.set(s, sig);
  return sig;
}

export interface TextSimilarity {
  /** |A∩B| / |A∪B|. */
  jaccard: number;
  /** |A∩B| / min(|A|, |B|): high when a short report is contained in a long one. */
  containment: number;
  /** true when computed from both full shingle sets, false when estimated from the MinHash signatures. */
  exact: boolean;
}

function intersectSorted(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      n++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return n;
}

/** Exact when both sketches carry their sets; otherwise the MinHash estimate, with containment derived from sizes. */
export function compareSketches(a: TextSketch, b: TextSketch): TextSimilarity {
  if (a.size === 0 || b.size === 0) return { jaccard: 0, containment: 0, exact: true };
  if (a.set && b.set) {
    const inter = intersectSorted(a.set, b.set);
    return { jaccard: inter / (a.size + b.size - inter), containment: inter / Math.min(a.size, b.size), exact: true };
  }
  const k = Math.min(a.sig.length, b.sig.length);
  let sa = a.sig;
  let sb = b.sig;
  const binnedA = isBinnedSignature(sa);
  if (binnedA !== isBinnedSignature(sb)) {
    // One side was written before one-permutation hashing: compare in its format, from the new side's hashes.
    const legacy = binnedA ? legacyOf(a, sb.length) : legacyOf(b, sa.length);
    if (!legacy) return { jaccard: 0, containment: 0, exact: false };
    if (binnedA) sa = legacy;
    else sb = legacy;
  }
  let eq = 0;
  for (let i = 0; i < k; i++) if (sa[i] === sb[i]) eq++;
  const j = k === 0 ? 0 : eq / k;
  const inter = (j * (a.size + b.size)) / (1 + j);
  return { jaccard: j, containment: Math.min(1, inter / Math.min(a.size, b.size)), exact: false };
}

/** One number for gating: Jaccard, or the down-weighted containment when one text is much shorter. */
export function textScore(s: TextSimilarity, containmentWeight: number): number {
  return Math.max(s.jaccard, containmentWeight * s.containment);
}
