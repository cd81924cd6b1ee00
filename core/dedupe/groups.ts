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
  // with it (8 KB, stays in cache): the map is read only at those positions.
  const keywords: { leaf: number; k: string; weight: number }[] = [];
  const byFirst = new Map<number, number[]>();
  const firstBits = new Uint32Array(2048);
  leaves.forEach((leaf, li) => {
    for (const k of leaf.keywords) {
      const id = keywords.push({ leaf: li, k, weight: k.length * leaf.weight }) - 1;
      const first = k.charCodeAt(0);
      firstBits[first >>> 5]! |= 1 << (first & 31);
      const list = byFirst.get(first);
      if (list) list.push(id);
      else byFirst.set(first, [id]);
    }
  });
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
      for (const id of byFirst.get(c) as number[]) {
        if ((hits[id] as number) >= 3 || i < (nextFrom[id] as number)) continue;
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
