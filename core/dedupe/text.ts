/**
 * Text similarity for Chinese (no spaces) and English, without a dictionary: normalize, cut into shingles
 * (CJK runs → character unigrams + bigrams; latin runs → words), then compare as sets.
 * A MinHash signature (`permutations` seeded 32-bit hashes) is the fixed-size form a store keeps; short texts also keep
 * their whole shingle set (sorted hashes), so two short reports get an exact Jaccard/containment instead of an estimate.
 * Pure and deterministic: the same text gives the same sketch on every machine (no Math.random, no native code).
 */

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

/** MurmurHash3 (x86, 32-bit) over the UTF-16 code units of `s`. */
export function hash32(s: string, seed = 0): number {
  let h = seed >>> 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (s.charCodeAt(i) & 0xffff) | ((s.charCodeAt(i + 1) & 0xffff) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = s.charCodeAt(i) & 0xffff;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2;
  return fmix32(h);
}

/** A 64-bit hex digest made of two seeded 32-bit hashes: for content hashes and keys, not for secrets. */
export function hash64hex(s: string): string {
  return hash32(s, 0x9747b28c).toString(16).padStart(8, '0') + hash32(s, 0x5bd1e995).toString(16).padStart(8, '0');
}

const URL_RE = /(?:https?:\/\/|www\.)[^\s\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+/gi;
const EMAIL_RE = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
/** Mobile numbers (also masked ones like 138****1234), landlines with an area code, and any run of ≥7 digits (ids). */
const PHONE_RE = /(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?[\d*]{4}){2}(?!\d)|(?<!\d)0\d{2,3}[ -]?\d{7,8}(?!\d)|\d{7,}/g;
/** Excel export artifacts seen in real message dumps. */
const ARTIFACT_RE = /_x000[0-9a-f]_/gi;
const PUNCT_RE = /[\p{P}\p{S}\s]+/gu;

/**
 * Full-width → half-width (NFKC), lowercase, links/emails/phone digits removed, punctuation → one space,
 * and the given boilerplate phrases (尊敬的领导, 您好 ...) removed. Keeps CJK, letters and short numbers (door numbers).
 */
export function normalizeText(input: string, stopPhrases: readonly string[] = []): string {
  let t = input.normalize('NFKC').toLowerCase().replace(ARTIFACT_RE, ' ');
  t = t.replace(URL_RE, ' ').replace(EMAIL_RE, ' ').replace(PHONE_RE, ' ');
  for (const p of stopPhrases) if (p && t.includes(p)) t = t.split(p).join(' ');
  return t.replace(PUNCT_RE, ' ').trim();
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
  /** MinHash signature: for each seeded permutation, the smallest permuted shingle hash (0xffffffff when empty). */
  sig: Uint32Array;
  /** Number of distinct shingles. */
  size: number;
  /** Sorted distinct shingle hashes, kept only when `size ≤ maxExact` (short texts: exact comparison). */
  set?: Uint32Array;
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

export function sketchOfShingles(sh: readonly string[], permutations = 64, maxExact = 256): TextSketch {
  const distinct = new Set<number>();
  for (const s of sh) distinct.add(hash32(s));
  const hashes = Uint32Array.from(distinct).sort();
  const seeds = seedsFor(permutations);
  const sig = new Uint32Array(permutations).fill(0xffffffff);
  for (let j = 0; j < hashes.length; j++) {
    const h = hashes[j]!;
    for (let i = 0; i < permutations; i++) {
      const v = fmix32(h ^ seeds[i]!);
      if (v < sig[i]!) sig[i] = v;
    }
  }
  return hashes.length <= maxExact ? { sig, size: hashes.length, set: hashes } : { sig, size: hashes.length };
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
  let eq = 0;
  for (let i = 0; i < k; i++) if (a.sig[i] === b.sig[i]) eq++;
  const j = k === 0 ? 0 : eq / k;
  const inter = (j * (a.size + b.size)) / (1 + j);
  return { jaccard: j, containment: Math.min(1, inter / Math.min(a.size, b.size)), exact: false };
}

/** One number for gating: Jaccard, or the down-weighted containment when one text is much shorter. */
export function textScore(s: TextSimilarity, containmentWeight: number): number {
  return Math.max(s.jaccard, containmentWeight * s.containment);
}
