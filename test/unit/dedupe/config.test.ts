import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crossedThresholds, DEFAULT_DEDUPE_CONFIG, parseDedupeConfig, settingsFor } from '#core/dedupe/config.ts';
import { defaultDedupeConfig } from '#core/dedupe/defaults.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { isCityLoopError } from '#core/errors.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';

describe('Function: parseDedupeConfig', () => {
  it('should accept the shipped config/dedupe.json', () => {
    // Act
    const c = parseDedupeConfig(JSON.parse(readFileSync('config/dedupe.json', 'utf8')));
    // Assess
    expect(c.growthThresholds).toEqual([5, 20, 100]);
    expect(settingsFor(c, 'water').incident.radiusMeters).toBe(800);
  });

  it('should fill missing sections from the defaults', () => {
    // Act
    const c = parseDedupeConfig({ defaults: { incident: { radiusMeters: 500 } } });
    // Assess
    expect(c.defaults.incident.radiusMeters).toBe(500);
    expect(c.defaults.incident.windowHours).toBe(DEFAULT_DEDUPE_CONFIG.defaults.incident.windowHours);
    expect(c.text.permutations).toBe(64);
  });

  it('should refuse out-of-range values with a coded error', () => {
    // Act
    let err: unknown;
    try {
      parseDedupeConfig({ defaults: { incident: { radiusMeters: -1 } } });
    } catch (e) {
      err = e;
    }
    // Assess
    expect(isCityLoopError(err) && err.code).toBe('INVALID_DEDUPE_CONFIG');
  });
});

describe('Function: settingsFor', () => {
  it('should apply a group override on top of the defaults', () => {
    // Prepare
    const c = parseDedupeConfig({ groups: { noise: { incident: { radiusMeters: 60 } } } });
    // Act
    const noise = settingsFor(c, 'noise');
    const other = settingsFor(c, 'garbage');
    // Assess
    expect(noise.incident.radiusMeters).toBe(60);
    expect(noise.incident.windowHours).toBe(c.defaults.incident.windowHours);
    expect(other.incident.radiusMeters).toBe(c.defaults.incident.radiusMeters);
  });
});

describe('Function: crossedThresholds', () => {
  it('should report each threshold crossed once', () => {
    // Act / Assess
    expect(crossedThresholds(4, 5)).toEqual([5]);
    expect(crossedThresholds(5, 6)).toEqual([]);
    expect(crossedThresholds(3, 25)).toEqual([5, 20]);
    expect(crossedThresholds(99, 100, [5, 20, 100])).toEqual([100]);
    expect(crossedThresholds(1, 1)).toEqual([]);
  });
});

describe('Function: createGroupResolver', () => {
  const groups = createGroupResolver(defaultDedupeConfig, defaultTaxonomy);

  it('should map a category code to its family', () => {
    // Act / Assess
    expect(groups.resolve({ category: 'GY-01', text: '' })).toMatchObject({
      group: 'water',
      root: 'GY',
      source: 'category',
    });
    expect(groups.resolve({ category: 'SZ-05', text: '' }).group).toBe('water');
    expect(groups.resolve({ category: 'SZ-01', text: '' }).group).toBe('streetlight');
  });

  it('should keep an unknown category as its own group', () => {
    // Act / Assess
    expect(groups.resolve({ category: 'Noise - Residential', text: '' }).group).toBe('Noise - Residential');
  });

  it('should fall back to taxonomy and config keywords without a category', () => {
    // Act / Assess
    expect(groups.resolve({ text: '小区门口水管爆了' }).group).toBe('water');
    expect(groups.resolve({ title: '路灯不亮', text: '晚上很黑' }).group).toBe('streetlight');
    expect(groups.resolve({ text: '今天天气不错' })).toEqual({ group: 'unknown', source: 'none' });
  });

  it('should let words naming an incident decide the group of a catch-all category', () => {
    // Act / Assess: 城乡建设其他 (where the model's coarse label lands without a keyword) + a burst main.
    expect(groups.resolve({ category: 'SZ-07', text: '和平路12号这边水管爆了，到处是水' })).toMatchObject({
      group: 'water',
      root: 'SZ',
      category: 'SZ-07',
      source: 'keywords',
    });
    // Nothing specific in the words: the catch-all group stays.
    expect(groups.resolve({ category: 'SZ-07', text: '反映一个情况' })).toMatchObject({
      group: 'sz-general',
      source: 'category',
    });
    // A specific category is never overridden by words.
    expect(groups.resolve({ category: 'SZ-01', text: '水管爆了' }).group).toBe('streetlight');
  });

  it('should find keywords in one pass with the same counts as an indexOf loop per keyword', () => {
    // Prepare: the simple resolver, word by word (non-overlapping occurrences, at most 3 each), over the same leaves.
    const words = [...new Set(defaultTaxonomy.categories.flatMap((c) => c.keywords))].slice(0, 60);
    const pieces = [...words, '水管', '爆了', '路灯', '噪音', '，', '我', '的', 'a', ' '];
    const textArb = fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((a) => a.join(''));
    fc.assert(
      fc.property(textArb, textArb, (title, text) => {
        const got = groups.resolve({ title, text });
        const again = groups.resolve({ title, text });
        expect(again).toEqual(got);
        const naive = naiveGroup(title, text);
        expect(got.group).toBe(naive ?? 'unknown');
      }),
      { numRuns: 300 },
    );
  });
});

/** The resolver's keyword fallback written plainly (the shipped config and taxonomy, leaf order, strict max). */
function naiveGroup(title: string, text: string): string | undefined {
  const t = `${title}\n${title}\n${text}`.normalize('NFKC').toLowerCase();
  const norm = (ks: readonly string[]) => ks.map((k) => k.normalize('NFKC').toLowerCase()).filter((k) => k.length > 0);
  const parents = new Set(defaultTaxonomy.categories.map((c) => c.parent).filter(Boolean));
  const g = createGroupResolver(defaultDedupeConfig, defaultTaxonomy);
  const leaves = defaultTaxonomy.categories
    .filter((c) => !parents.has(c.code) && c.keywords.length > 0)
    .map((c) => ({ group: g.resolve({ category: c.code, text: '' }).group, keywords: norm(c.keywords), weight: 1 }));
  for (const [group, words] of Object.entries(defaultDedupeConfig.keywords)) {
    leaves.push({ group, keywords: norm(words), weight: 2 });
  }
  let best: string | undefined;
  let bestScore = 0;
  for (const leaf of leaves) {
    let score = 0;
    for (const k of leaf.keywords) {
      let from = t.indexOf(k);
      let hits = 0;
      while (from >= 0 && hits < 3) {
        hits++;
        from = t.indexOf(k, from + k.length);
      }
      score += hits * k.length * leaf.weight;
    }
    if (score > bestScore) {
      bestScore = score;
      best = leaf.group;
    }
  }
  return best;
}
