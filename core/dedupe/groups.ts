/**
 * Which dedupe group a report belongs to. Only reports of one group can merge into an incident, and the group is
 * part of every lookup key. The group comes from the category (事项清单 leaf → its `group`, gathered into a family by
 * `config.families`), or, when no category is known yet, from the taxonomy keywords found in the text: a plain
 * fallback so that the dedupe command and a Lambda without the classifier still group reports sensibly. A catch-all
 * leaf (a group in `config.looseGroups`, e.g. 城乡建设其他 — where the trained model's coarse label lands when no keyword
 * picks a leaf) defers to the keywords when they name a specific group: "水管爆了" filed as 城乡建设其他 still meets the
 * burst-main incident.
 */
import type { Category, Taxonomy } from '../taxonomy/types.ts';
import { nfkcLowerJoined } from '../text/fold.ts';
import type { DedupeConfig } from './config.ts';

export interface ReportGroup {
  /** The dedupe group (family), e.g. `water`, `noise`, `garbage`; `unknown` when nothing is known. */
  group: string;
  /** First-level category (or model label): repeats of one citizen may move between leaves of one root. */
  root?: string;
  /** The category code used, when there is one. */
  category?: string;
  source: 'category' | 'keywords' | 'none';
}

export interface GroupResolver {
  resolve(input: { category?: string; title?: string; text: string }): ReportGroup;
}

interface Leaf {
  code: string;
  group: string;
  root: string;
  keywords: string[];
  /** Config words are curated for grouping and count double against the taxonomy's broad ones (楼下, 单位). */
  weight: number;
}

/** The bit of a keyword's first two code units in `pairBits` (16 bits). */
const pairSlot = (first: number, second: number) => Math.imul((first << 16) | second, 0x9e3779b1) >>> 16;

/** Builds the resolver from the 事项清单 (optional) and the dedupe config's families. */
export function createGroupResolver(config: DedupeConfig, taxonomy?: Taxonomy): GroupResolver {
  const familyOf = new Map<string, string>();
  for (const [family, members] of Object.entries(config.families)) for (const m of members) familyOf.set(m, family);
  const byCode = new Map<string, Category>();
  for (const c of taxonomy?.categories ?? []) byCode.set(c.code, c);
  const parents = new Set((taxonomy?.categories ?? []).map((c) => c.parent).filter(Boolean));
  const labels = new Set((taxonomy?.categories ?? []).flatMap((c) => c.modelLabels ?? []));

  const rootOf = (c: Category): Category => {
    let cur = c;
    for (let i = 0; i < 8 && cur.parent && byCode.has(cur.parent); i++) cur = byCode.get(cur.parent)!;
    return cur;
  };
  const groupOfCategory = (c: Category): string => {
    let cur: Category | undefined = c;
    for (let i = 0; i < 8 && cur; i++) {
      if (cur.group) return familyOf.get(cur.group) ?? familyOf.get(cur.code) ?? cur.group;
      cur = cur.parent ? byCode.get(cur.parent) : undefined;
    }
    return familyOf.get(c.code) ?? c.code;
  };

  const loose = new Set(config.looseGroups);
  const norm = (ks: readonly string[]) => ks.map((k) => k.normalize('NFKC').toLowerCase()).filter((k) => k.length > 0);
  const leaves: Leaf[] = (taxonomy?.categories ?? [])
    .filter((c) => !parents.has(c.code) && c.keywords.length > 0)
    .map((c) => ({
      code: c.code,
      group: groupOfCategory(c),
      root: rootOf(c).code,
      keywords: norm(c.keywords),
      weight: 1,
    }));
  // The config's extra words act as one more "leaf" per group (no category code: the group is what dedupe needs).
  for (const [group, words] of Object.entries(config.keywords)) {
    const like = leaves.find((l) => l.group === group);
    leaves.push({ code: '', group, root: like?.root ?? group, keywords: norm(words), weight: 2 });
  }

  // Every keyword by its first UTF-16 unit: one pass over the text finds them all (the same counts as an indexOf
  // loop per keyword: non-overlapping occurrences, at most 3 each). A bit per unit says whether any keyword starts
  // with it (8 KB, stays in cache): the lists are read only at those positions. The keywords of one first unit are
  // one run of ids (`firstIds`, from `firstStart`), and a keyword is compared whole only when its second unit matches.
  const keywords: { leaf: number; k: string; weight: number }[] = [];
  const byFirst = new Map<number, { leaf: number; k: string; weight: number }[]>();
  leaves.forEach((leaf, li) => {
    for (const k of leaf.keywords) {
      const kw = { leaf: li, k, weight: k.length * leaf.weight };
      const first = k.charCodeAt(0);
      const list = byFirst.get(first);
      if (list) list.push(kw);
      else byFirst.set(first, [kw]);
    }
  });
  const firstBits = new Uint32Array(2048);
  const firstStart = new Map<number, number>();
  for (const [first, list] of byFirst) {
    firstBits[first >>> 5]! |= 1 << (first & 31);
    firstStart.set(first, keywords.length);
    keywords.push(...list);
  }
  /** Per id: the first id of the next first unit's run (where its own run ends). */
  const runEnd = new Int32Array(keywords.length);
  for (let id = keywords.length - 1, end = keywords.length; id >= 0; id--) {
    runEnd[id] = end;
    if (firstStart.get(keywords[id]!.k.charCodeAt(0)) === id) end = id;
  }
  /** Per id: the keyword's second unit, or -1 for a one-unit keyword. */
  const second = Int32Array.from(keywords, (kw) => (kw.k.length > 1 ? kw.k.charCodeAt(1) : -1));
  /** Per first unit (bit set in firstBits): its first id (two bytes each while the ids fit). */
  const firstIds = keywords.length <= 0xffff ? new Uint16Array(0x10000) : new Int32Array(0x10000);
  for (const [first, id] of firstStart) firstIds[first] = id;
  // A bit per (first unit, second unit) pair of some keyword (hashed to 16 bits), and per first unit of a one-unit
  // keyword: most positions whose unit starts a keyword are not followed by a second unit of one.
  const pairBits = new Uint32Array(2048);
  const loneBits = new Uint32Array(2048);
  for (const kw of keywords) {
    const first = kw.k.charCodeAt(0);
    if (kw.k.length === 1) loneBits[first >>> 5]! |= 1 << (first & 31);
    else {
      const pair = pairSlot(first, kw.k.charCodeAt(1));
      pairBits[pair >>> 5]! |= 1 << (pair & 31);
    }
  }
  const hits = new Uint8Array(keywords.length);
  const nextFrom = new Int32Array(keywords.length);
  const scores = new Float64Array(leaves.length);

  function byKeywords(title: string, text: string): ReportGroup | undefined {
    const t = nfkcLowerJoined([title, title, text], '\n');
    hits.fill(0);
    nextFrom.fill(0);
    scores.fill(0);
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (((firstBits[c >>> 5]! >>> (c & 31)) & 1) === 0) continue;
      const next = i + 1 < t.length ? t.charCodeAt(i + 1) : -2;
      if (((loneBits[c >>> 5]! >>> (c & 31)) & 1) === 0) {
        const pair = next < 0 ? -1 : pairSlot(c, next);
        if (pair < 0 || ((pairBits[pair >>> 5]! >>> (pair & 31)) & 1) === 0) continue;
      }
      for (let id = firstIds[c]!, end = runEnd[id]!; id < end; id++) {
        if ((hits[id] as number) >= 3 || i < (nextFrom[id] as number)) continue;
        const s2 = second[id]!;
        if (s2 !== -1 && s2 !== next) continue;
        const kw = keywords[id] as { leaf: number; k: string; weight: number };
        if (!t.startsWith(kw.k, i)) continue;
        hits[id] = (hits[id] as number) + 1;
        nextFrom[id] = i + kw.k.length;
        scores[kw.leaf] = (scores[kw.leaf] as number) + kw.weight;
      }
    }
    let best: Leaf | undefined;
    let bestScore = 0;
    for (let li = 0; li < leaves.length; li++) {
      if ((scores[li] as number) > bestScore) {
        bestScore = scores[li] as number;
        best = leaves[li];
      }
    }
    if (!best) return undefined;
    return best.code
      ? { group: best.group, root: best.root, category: best.code, source: 'keywords' }
      : { group: best.group, root: best.root, source: 'keywords' };
  }

  return {
    resolve({ category, title, text }) {
      if (category) {
        const c = byCode.get(category);
        if (c) {
          const group = groupOfCategory(c);
          // A catch-all leaf (城乡建设其他 …) says little about the incident: words naming one (水管, 停电) decide.
          if (loose.has(group)) {
            const kw = byKeywords(title ?? '', text);
            if (kw && !loose.has(kw.group)) {
              return { group: kw.group, root: rootOf(c).code, category: c.code, source: 'keywords' };
            }
          }
          return { group, root: rootOf(c).code, category: c.code, source: 'category' };
        }
        if (labels.has(category))
          return { group: familyOf.get(category) ?? `label:${category}`, root: category, category, source: 'category' };
        return { group: familyOf.get(category) ?? category, root: category, category, source: 'category' };
      }
      return byKeywords(title ?? '', text) ?? { group: 'unknown', source: 'none' };
    },
  };
}
