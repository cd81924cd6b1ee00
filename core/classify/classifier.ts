/**
 * 分类 (classification) of a request into a leaf of the 事项清单, with the department that handles it and an honest
 * decision: `auto` (dispatch at once) or `manual` (人工分拨 by the centre's supervisors).
 *
 * How the pieces combine:
 * 1. A valid `categoryHint` (a leaf code or name, e.g. chosen by a hotline agent or an Open311 service_code) wins:
 *    reason `hint`.
 * 2. Keywords of the taxonomy act as rules. Leftmost-longest matching over the normalized text; a leaf's keyword score
 *    is the total length of its distinct matched keywords.
 * 3. The trained model gives calibrated probabilities over its first-level labels; `modelLabels` in the taxonomy map a
 *    label to leaves. Within the model's label the keywords pick the leaf (reason `keyword-rule`), else the label's
 *    default leaf (`defaultFor`, reason `model`); the confidence is the model's probability for the label.
 * 4. A strong keyword hit forces its leaf when the leaf is a forced one (by default every `emergency` leaf: a gas smell
 *    must reach the gas emergency line whatever the model thinks), or when the model has no label for the leaf (民政,
 *    治安, 属地综合 ...) and the model is not sure of its own label (p < `modelOverride`).
 * 5. Confidence below the category's threshold → `decision: 'manual'`, department `centre`, reason `below-threshold`;
 *    the suggestion stays in `category`/`alternatives` for the supervisor. Nothing matched → manual, reason `no-match`.
 * Without a model, steps 1, 2 and 5 form the keyword-only fallback.
 *
 * The department marker `street` (属地) means: pick the street office from the request's location (the router does).
 */

import { CityLoopError } from '#core/errors.ts';
import type { Category, Taxonomy } from '#core/taxonomy/types.ts';
import { nfkcLower, nfkcLowerJoined } from '#core/text/fold.ts';
import { loadModel, type ModelArtifact, type TextModel } from './model.ts';
import { indexTaxonomy, MANUAL_TRIAGE_DEPARTMENT, type TaxonomyIndex } from './taxonomy.ts';

export interface ClassifyInput {
  title?: string;
  text: string;
  /** A leaf code (e.g. `SZ-01`) or leaf name chosen upstream. */
  categoryHint?: string;
}

export type ClassifyReason = 'hint' | 'keyword-rule' | 'model' | 'below-threshold' | 'no-match';

export interface CategoryAlternative {
  category: string;
  label?: string;
  confidence: number;
}

export interface ClassifyResult {
  /** Leaf code: the decision when `auto`, the suggestion when `manual` (absent when nothing matched). */
  category?: string;
  /** Department id; `street` = 属地 (by location); `centre` when the decision is manual. */
  department?: string;
  confidence: number;
  /** The model's first-level label that led here, if any. */
  label?: string;
  alternatives: CategoryAlternative[];
  decision: 'auto' | 'manual';
  reason: ClassifyReason;
  /** The keywords that matched for the chosen category (for the supervisor's view). */
  matchedKeywords?: string[];
}

export interface Thresholds {
  /** Minimum confidence for auto-dispatch (default 0.6). */
  default?: number;
  /** Per leaf code overrides, e.g. stricter for `emergency` leaves or looser for a well-learned one. */
  byCategory?: Record<string, number>;
}

export interface ClassifierOptions {
  taxonomy: Taxonomy;
  /** A loaded model, or its artifact (object or JSON text). Without one, the keyword-only fallback runs. */
  model?: TextModel | ModelArtifact | string;
  thresholds?: Thresholds;
  /** Keyword score (sum of matched keyword lengths) that counts as a strong hit. Default 4. */
  strongScore?: number;
  /** Leaves a strong keyword hit forces regardless of the model. Default: every leaf with slaPolicy `emergency`. */
  forceCategories?: string[];
  /** A strong hit on a leaf the model has no label for wins while the model's probability is below this. Default 0.85. */
  modelOverride?: number;
  /** How many alternatives to return. Default 3. */
  alternatives?: number;
}

export interface Classifier {
  classify(input: ClassifyInput): ClassifyResult;
  readonly index: TaxonomyIndex;
  readonly model?: TextModel;
}

interface KeywordHit {
  leaf: Category;
  score: number;
  matched: string[];
}

/**
 * The keyword trie as flat typed arrays: child of (node, code unit) found by open addressing on node · 65536 + code, so
 * a walk allocates nothing and probes one cache-friendly table per character.
 */
class FlatTrie {
  private keys: Int32Array;
  private vals: Int32Array;
  private used = 0;

  /** `nodes`: about how many nodes the trie will hold (the keywords' total length): the table is sized once for them. */
  constructor(nodes = 512) {
    let size = 1024;
    while (size < nodes * 2 + 2) size *= 2;
    this.keys = new Int32Array(size).fill(-1);
    this.vals = new Int32Array(size);
  }
  /** Keyword ending at each node (index = node id; node 0 is the root). */
  readonly words: (string | undefined)[] = [undefined];

  private slot(key: number): number {
    const keys = this.keys;
    const mask = keys.length - 1;
    // Fibonacci hashing: the top bits of key × 2^32/φ. (The low bits would depend on the code unit alone, which put
    // every node's child for one character in one run of slots.)
    let i = Math.imul(key, 0x9e3779b1) >>> (Math.clz32(mask) | 0);
    while (keys[i] !== -1 && keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  child(node: number, c: number): number {
    const key = node * 65536 + c;
    const i = this.slot(key);
    return this.keys[i] === key ? (this.vals[i] as number) : -1;
  }

  insert(word: string): void {
    let node = 0;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      let next = this.child(node, c);
      if (next < 0) {
        if ((this.used + 1) * 2 > this.keys.length) this.grow();
        next = this.words.length;
        this.words.push(undefined);
        const key = node * 65536 + c;
        const at = this.slot(key);
        this.keys[at] = key;
        this.vals[at] = next;
        this.used++;
      }
      node = next;
    }
    this.words[node] = word;
  }

  private grow(): void {
    const keys = this.keys;
    const vals = this.vals;
    this.keys = new Int32Array(keys.length * 2).fill(-1);
    this.vals = new Int32Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      if (k === -1) continue;
      const at = this.slot(k);
      this.keys[at] = k;
      this.vals[at] = vals[i] as number;
    }
  }
}

const normKeyword = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, '');

/** The folded text being matched (code units), reused from call to call. */
let matchBuf = new Uint16Array(1024);
/** Per code unit: 0 not looked up yet, 1 whitespace (`\s`), 2 not. */
const spaceKind = new Uint8Array(65536);
const SPACE_RE = /\s/;

/** 16 bits from two code units: where the pair's bit is in a keyword matcher's filter. */
const pairHash = (a: number, b: number) => Math.imul(a * 65536 + b, 0x9e3779b1) >>> 16;

/** `s` (NFKC and lower case already) without its whitespace, written into `matchBuf`; returns its length. */
function foldForMatch(s: string): number {
  if (matchBuf.length < s.length) matchBuf = new Uint16Array(Math.max(s.length, matchBuf.length * 2));
  const buf = matchBuf;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // CJK ideographs and printable ASCII but the space: no table read (its lines for 20,000 ideographs miss the cache).
    if (c >= 0x4e00 ? c <= 0x9fff : c > 0x20 && c < 0x7f) {
      buf[n++] = c;
      continue;
    }
    let k = spaceKind[c] as number;
    if (k === 0) {
      k = SPACE_RE.test(String.fromCharCode(c)) ? 1 : 2;
      spaceKind[c] = k;
    }
    if (k === 2) buf[n++] = c;
  }
  return n;
}

/**
 * Compiles the taxonomy's keywords into one leftmost-longest matcher. A matched keyword also credits the shorter
 * keywords inside it (燃气泄漏 also says 燃气), so overlapping leaves keep their evidence and the longer one still wins.
 */
export function createKeywordMatcher(index: TaxonomyIndex): (text: string) => KeywordHit[] {
  const matchFolded = compileKeywords(index);
  return (text: string) => matchFolded(nfkcLower(text));
}

/** The matcher of `createKeywordMatcher` over a text folded already (`nfkcLower`: NFKC, lower case). */
function compileKeywords(index: TaxonomyIndex): (folded: string) => KeywordHit[] {
  const owner = new Map<string, Category[]>();
  for (const leaf of index.leaves) {
    for (const k of leaf.keywords) {
      const nk = normKeyword(k);
      if (nk === '') continue;
      const list = owner.get(nk) ?? [];
      if (!list.includes(leaf)) list.push(leaf);
      owner.set(nk, list);
    }
  }
  const words = [...owner.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  let chars = 0;
  for (const w of words) chars += w.length;
  const trie = new FlatTrie(chars);
  for (const w of words) trie.insert(w);
  const order = new Map(index.leaves.map((l, i) => [l.code, i]));
  // Code units that start some keyword, one bit each (8 KB: stays in cache): most positions of a text start no
  // keyword and cost one bit test.
  const startBits = new Uint32Array(2048);
  for (const w of words) startBits[w.charCodeAt(0) >>> 5]! |= 1 << (w.charCodeAt(0) & 31);
  // The same for the first two units of the longer keywords (hashed to 16 bits: a clash only costs a walk), and the
  // one-unit keywords: most starts go no further than their second unit, and cost a second bit test, not a walk.
  const pairBits = new Uint32Array(2048);
  const singleBits = new Uint32Array(2048);
  for (const w of words) {
    const c = w.charCodeAt(0);
    if (w.length === 1) singleBits[c >>> 5]! |= 1 << (c & 31);
    else {
      const h = pairHash(c, w.charCodeAt(1));
      pairBits[h >>> 5]! |= 1 << (h & 31);
    }
  }
  const wordIndex = new Map(words.map((w, i) => [w, i]));
  // The shorter keywords inside each keyword, in `words` order: its substrings looked up (a keyword has a few dozen at
  // most), not every keyword tested against every other (quadratic). Found when the keyword first matches: for all
  // keywords at once it was 2 ms of a cold start, and a text matches a handful.
  const inside: (number[] | undefined)[] = new Array(words.length);
  const insideOf = (wi: number): number[] => {
    let list = inside[wi];
    if (list === undefined) {
      const w = words[wi] as string;
      const within = new Set<number>();
      for (let a = 0; a < w.length; a++) {
        for (let b = a + 1; b <= w.length; b++) {
          if (b - a === w.length) continue;
          const v = wordIndex.get(w.slice(a, b));
          if (v !== undefined) within.add(v);
        }
      }
      list = [...within].sort((x, y) => x - y);
      inside[wi] = list;
    }
    return list;
  };
  const nodeWord = new Int32Array(trie.words.length).fill(-1);
  trie.words.forEach((w, node) => {
    if (w !== undefined) nodeWord[node] = wordIndex.get(w) as number;
  });
  const seen = new Uint8Array(words.length);
  // A scratch slot per leaf code (`order`) for its hit in one call, and the slots of each keyword's leaves.
  const ownersOf = words.map((w) => owner.get(w) as Category[]);
  const slotsOf = ownersOf.map((leaves) => leaves.map((leaf) => order.get(leaf.code) as number));
  const hitOf: (KeywordHit | undefined)[] = index.leaves.map(() => undefined);
  // The slot of each hit of one call, in the order of `hits` (at most one hit per slot).
  const hitSlot = new Int32Array(index.leaves.length);
  return (folded: string) => {
    if (words.length === 0) return [];
    // The text as the keywords were written: NFKC, lowercase, no whitespace (into a reused code-unit buffer).
    const n = foldForMatch(folded);
    const s = matchBuf;
    const found: number[] = [];
    const note = (w: number) => {
      if (seen[w] === 0) {
        seen[w] = 1;
        found.push(w);
      }
    };
    // Leftmost-longest, non-overlapping: at each position take the longest keyword starting there, then skip past it.
    for (let i = 0; i < n; ) {
      const c = s[i] as number;
      if ((((startBits[c >>> 5] as number) >>> (c & 31)) & 1) === 0) {
        i++;
        continue;
      }
      const h = i + 1 < n ? pairHash(c, s[i + 1] as number) : -1;
      if (h < 0 || (((pairBits[h >>> 5] as number) >>> (h & 31)) & 1) === 0) {
        // No keyword of two or more units starts here: only a one-unit keyword can.
        if ((((singleBits[c >>> 5] as number) >>> (c & 31)) & 1) === 0) {
          i++;
          continue;
        }
        const single = nodeWord[trie.child(0, c)] as number;
        note(single);
        for (const v of insideOf(single)) note(v);
        i += 1;
        continue;
      }
      let node = trie.child(0, c);
      let longest = nodeWord[node] as number;
      for (let j = i + 1; j < n; j++) {
        node = trie.child(node, s[j] as number);
        if (node < 0) break;
        const w = nodeWord[node] as number;
        if (w >= 0) longest = w;
      }
      if (longest < 0) {
        i++;
        continue;
      }
      note(longest);
      for (const v of insideOf(longest)) note(v);
      i += (words[longest] as string).length;
    }
    // First seen first, as the set of strings did (the order of `matched`).
    const hits: KeywordHit[] = [];
    for (const wi of found) {
      seen[wi] = 0;
      const w = words[wi] as string;
      const owners = ownersOf[wi] as Category[];
      const slots = slotsOf[wi] as number[];
      for (let t = 0; t < owners.length; t++) {
        const slot = slots[t] as number;
        let h = hitOf[slot];
        if (h === undefined) {
          h = { leaf: owners[t] as Category, score: 0, matched: [] };
          hitOf[slot] = h;
          hitSlot[hits.length] = slot;
          hits.push(h);
        }
        h.score += w.length;
        h.matched.push(w);
      }
    }
    for (let t = 0; t < hits.length; t++) hitOf[hitSlot[t] as number] = undefined;
    // Best score first, then taxonomy order: a strict order (one hit per leaf code), so any sort gives this result; an
    // insertion sort for the usual few hits, `Array.prototype.sort` for many.
    if (hits.length > 16) {
      hits.sort((a, b) => b.score - a.score || (order.get(a.leaf.code) as number) - (order.get(b.leaf.code) as number));
    } else {
      for (let i = 1; i < hits.length; i++) {
        const h = hits[i] as KeywordHit;
        const slot = hitSlot[i] as number;
        let j = i;
        for (; j > 0; j--) {
          const prev = hits[j - 1] as KeywordHit;
          const before = prev.score > h.score || (prev.score === h.score && (hitSlot[j - 1] as number) < slot);
          if (before) break;
          hits[j] = prev;
          hitSlot[j] = hitSlot[j - 1] as number;
        }
        hits[j] = h;
        hitSlot[j] = slot;
      }
    }
    return hits;
  };
}

/**
 * Confidence of a keyword-only decision, a fixed and documented heuristic (not a fitted probability): 1 - 2^(-score/2)
 * (one 2-character keyword 0.5, 4 characters 0.75, 6 characters 0.875), halved toward 0 by a close runner-up.
 */
export function keywordConfidence(score: number, runnerUp = 0): number {
  const base = 1 - 2 ** (-score / 2);
  const margin = score > 0 ? Math.max(0, score - runnerUp) / score : 0;
  return base * (0.5 + 0.5 * margin);
}

function isModel(x: unknown): x is TextModel {
  return typeof x === 'object' && x !== null && typeof (x as TextModel).probabilities === 'function';
}

/** A candidate leaf of the model's labels in one text (`createClassifier`). */
interface Candidate {
  leaf: Category;
  hit?: KeywordHit;
  label: string;
  labelP: number;
  p: number;
}

/**
 * `candidates.sort((a, b) => b.p - a.p)`, in place. For finite p that comparator is a consistent order, so the stable
 * sort's result is unique and an insertion sort (a handful of candidates) gives it without the cost of
 * `Array.prototype.sort`; anything else (NaN, infinities from a stand-in model) goes to `Array.prototype.sort`.
 */
function sortByP(candidates: Candidate[]): void {
  for (const c of candidates) {
    if (!Number.isFinite(c.p)) {
      candidates.sort((a, b) => b.p - a.p);
      return;
    }
  }
  for (let i = 1; i < candidates.length; i++) {
    const c = candidates[i] as Candidate;
    let j = i;
    while (j > 0 && (candidates[j - 1] as Candidate).p < c.p) {
      candidates[j] = candidates[j - 1] as Candidate;
      j--;
    }
    candidates[j] = c;
  }
}

/** The candidate for a leaf code (a handful of candidates: a scan, no Map). */
function candidateFor(candidates: readonly Candidate[], code: string): Candidate | undefined {
  for (const c of candidates) if (c.leaf.code === code) return c;
  return undefined;
}

export function createClassifier(opts: ClassifierOptions): Classifier {
  const index = indexTaxonomy(opts.taxonomy);
  const model = opts.model === undefined ? undefined : isModel(opts.model) ? opts.model : loadModel(opts.model);
  const matchFolded = compileKeywords(index);
  const strongScore = opts.strongScore ?? 4;
  const modelOverride = opts.modelOverride ?? 0.85;
  const nAlt = opts.alternatives ?? 3;
  const force = new Set(
    opts.forceCategories ?? index.leaves.filter((l) => l.slaPolicy === 'emergency').map((l) => l.code),
  );
  const leafByCode = new Map(index.leaves.map((l) => [l.code, l]));
  const leafByName = new Map(index.leaves.map((l) => [l.name, l]));
  const thresholdOf = (code: string | undefined) =>
    (code === undefined ? undefined : opts.thresholds?.byCategory?.[code]) ?? opts.thresholds?.default ?? 0.6;
  const labelsOf = (code: string) => index.labelsOfLeaf.get(code) ?? [];

  const finish = (r: Omit<ClassifyResult, 'decision'> & { decision?: 'auto' | 'manual' }): ClassifyResult => {
    const leaf = r.category === undefined ? undefined : leafByCode.get(r.category);
    const alternatives = r.alternatives.filter((a) => a.category !== r.category).slice(0, nAlt);
    if (r.decision !== 'auto' && (leaf === undefined || r.confidence < thresholdOf(leaf.code))) {
      return {
        ...r,
        alternatives,
        department: MANUAL_TRIAGE_DEPARTMENT,
        decision: 'manual',
        reason: leaf === undefined ? 'no-match' : 'below-threshold',
      };
    }
    return { ...r, alternatives, department: leaf?.department, decision: 'auto' };
  };

  function classify(input: ClassifyInput): ClassifyResult {
    const hint = input.categoryHint?.trim();
    if (hint) {
      const leaf = leafByCode.get(hint) ?? leafByName.get(hint);
      if (leaf) {
        return finish({
          category: leaf.code,
          label: labelsOf(leaf.code)[0],
          confidence: 1,
          alternatives: [],
          reason: 'hint',
          decision: 'auto',
        });
      }
    }
    const parts = [input.title, input.text].filter((s): s is string => typeof s === 'string' && s.trim() !== '');
    // The text folded once (NFKC, lower case) for the keywords and the model: the fold of the parts joined by a line
    // break is the folds of the parts so joined (`nfkcLowerJoined`), remembered for dedupe's later folds of them.
    const folded = nfkcLowerJoined(parts, '\n');
    const hits = matchFolded(folded);
    const top = hits[0];
    const strong = top !== undefined && top.score >= strongScore;

    if (!model) {
      if (!top) return finish({ confidence: 0, alternatives: [], reason: 'no-match' });
      return finish({
        category: top.leaf.code,
        label: labelsOf(top.leaf.code)[0],
        confidence: keywordConfidence(top.score, hits[1]?.score ?? 0),
        alternatives: hits.slice(1).map((h) => ({
          category: h.leaf.code,
          label: labelsOf(h.leaf.code)[0],
          confidence: keywordConfidence(h.score, top.score),
        })),
        reason: 'keyword-rule',
        matchedKeywords: top.matched,
      });
    }

    const p =
      model.probabilitiesOfFolded !== undefined
        ? model.probabilitiesOfFolded(folded)
        : model.probabilities(parts.join('\n'));
    const labels = model.labels;
    // The labels of each hit's leaf, looked up once (each label below asks them in turn).
    const hitLabels = hits.map((h) => labelsOf(h.leaf.code));
    // Labels that lead to the same leaf in this text pool their probability: the leaf is right if either label is.
    // Candidates in order of first appearance (as a Map by leaf code keeps them), at most one per label.
    const candidates: Candidate[] = [];
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i] as string;
      // The leaf the label stands for in this text: its best keyword hit, else its default leaf.
      let hit: KeywordHit | undefined;
      for (let j = 0; j < hits.length; j++) {
        if ((hitLabels[j] as string[]).includes(label)) {
          hit = hits[j];
          break;
        }
      }
      const leaf = hit !== undefined ? hit.leaf : index.defaultByLabel.get(label);
      const pi = p[i] as number;
      if (!leaf) continue;
      const c = candidateFor(candidates, leaf.code);
      if (!c) candidates.push({ leaf, hit, label, labelP: pi, p: pi });
      else {
        c.p += pi;
        if (pi > c.labelP) {
          c.label = label;
          c.labelP = pi;
        }
      }
    }
    sortByP(candidates);
    const alternativesExcept = (code: string): CategoryAlternative[] => {
      const out: CategoryAlternative[] = [];
      for (const c of candidates) {
        if (c.leaf.code !== code) out.push({ category: c.leaf.code, label: c.label, confidence: c.p });
      }
      for (let j = 0; j < hits.length; j++) {
        const h = hits[j] as KeywordHit;
        if (h.leaf.code !== code && candidateFor(candidates, h.leaf.code) === undefined) {
          out.push({ category: h.leaf.code, label: (hitLabels[j] as string[])[0], confidence: 0 });
        }
      }
      return out;
    };
    const keywordRule = (hit: KeywordHit, forced = false): ClassifyResult => {
      const covering = labelsOf(hit.leaf.code);
      // The model's probability of a label (the last of equal labels, as a Map from the labels would keep).
      const pOf = (l: string): number | undefined => {
        const i = labels.lastIndexOf(l);
        return i < 0 ? undefined : (p[i] as number);
      };
      const pCover = covering.reduce((m, l) => m + (pOf(l) ?? 0), 0);
      const runnerUp = hits.find((h) => h !== hit)?.score ?? 0;
      return finish({
        category: hit.leaf.code,
        label: covering.length <= 1 ? covering[0] : covering.slice().sort((a, b) => (pOf(b) ?? 0) - (pOf(a) ?? 0))[0],
        confidence: Math.min(1, Math.max(pCover, keywordConfidence(hit.score, runnerUp))),
        alternatives: alternativesExcept(hit.leaf.code),
        reason: 'keyword-rule',
        matchedKeywords: hit.matched,
        // A forced leaf (gas leak, open manhole …) is dispatched at once, whatever the thresholds say.
        ...(forced ? { decision: 'auto' as const } : {}),
      });
    };
    const best = candidates[0];
    // Safety first: a strong hit on a forced leaf (gas leak, open manhole ...) wins over the model.
    if (top && strong && force.has(top.leaf.code)) return keywordRule(top, true);
    // Subjects the model was never trained on (民政, 治安, 属地综合 ...) can only be seen through keywords: they win
    // when strong and the model is unsure, or whenever the model could only offer its label's generic leaf.
    const uncovered = hits.find((_, j) => (hitLabels[j] as string[]).length === 0);
    if (uncovered && (!best?.hit || (uncovered.score >= strongScore && best.p < modelOverride)))
      return keywordRule(uncovered);
    if (!best) return finish({ confidence: 0, alternatives: [], reason: 'no-match' });
    return finish({
      category: best.leaf.code,
      label: best.label,
      confidence: Math.min(1, best.p),
      alternatives: alternativesExcept(best.leaf.code),
      reason: best.hit ? 'keyword-rule' : 'model',
      matchedKeywords: best.hit?.matched,
    });
  }

  return { classify, index, model };
}

// ---------------------------------------------------------------------------------------------------------------------
// Supervisors' corrections → training rows

export interface CorrectionInput {
  title?: string;
  text: string;
  /** The leaf code the supervisor chose in triage (改派 / 人工分拨). */
  category: string;
}

export interface CorrectionRow {
  text: string;
  /** The training label: the model label that covers the leaf, else the name of the leaf's first-level category. */
  label: string;
  category: string;
}

/**
 * Turns a supervisor's triage correction into a labelled example for the next training. A leaf that no model label
 * covers yields its first-level category's name as a new label: map it in `modelLabels` before training on it.
 * Throws `UNKNOWN_CATEGORY` for a code that is not a leaf.
 */
export function recordCorrection(taxonomy: Taxonomy | TaxonomyIndex, c: CorrectionInput): CorrectionRow {
  const index = 'leaves' in taxonomy ? taxonomy : indexTaxonomy(taxonomy);
  const leaf = index.leaves.find((l) => l.code === c.category);
  if (!leaf) {
    throw new CityLoopError('UNKNOWN_CATEGORY', `不是有效的末级分类：${c.category} (not a leaf category)`, 400, {
      category: c.category,
    });
  }
  const text = [c.title, c.text]
    .filter((s): s is string => typeof s === 'string' && s.trim() !== '')
    .join('\n')
    .trim();
  const label =
    index.labelsOfLeaf.get(leaf.code)?.[0] ?? index.byCode.get(index.rootOf.get(leaf.code) ?? '')?.name ?? leaf.name;
  return { text, label, category: leaf.code };
}

/** One CSV line (RFC 4180 quoting) for `text,label` training files. */
export function toCsvLine(row: { text: string; label: string }): string {
  const q = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${q(row.text)},${q(row.label)}`;
}
