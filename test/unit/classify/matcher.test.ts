import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createKeywordMatcher } from '#core/classify/classifier.ts';
import { defaultTaxonomy } from '#core/classify/default.ts';
import { indexTaxonomy } from '#core/classify/taxonomy.ts';

const index = indexTaxonomy(defaultTaxonomy);
const norm = (s: string) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
const keywords = [...new Set(index.leaves.flatMap((l) => l.keywords.map(norm)).filter((k) => k !== ''))];

/** Leftmost-longest by brute force over every keyword, plus the keywords inside each match (the documented rule). */
function referenceMatches(text: string): Set<string> {
  const s = norm(text);
  const found = new Set<string>();
  for (let i = 0; i < s.length; ) {
    let longest = '';
    for (const k of keywords) if (k.length > longest.length && s.startsWith(k, i)) longest = k;
    if (longest === '') {
      i++;
      continue;
    }
    found.add(longest);
    for (const k of keywords) if (k !== longest && longest.includes(k)) found.add(k);
    i += longest.length;
  }
  return found;
}

describe('Function: createKeywordMatcher', () => {
  it('should find exactly the leftmost-longest keywords of a brute-force scan, over the whole taxonomy', () => {
    // Prepare: texts stitched from keywords, their prefixes and filler, so that matches overlap and nest
    const match = createKeywordMatcher(index);
    const piece = fc.oneof(
      fc.constantFrom(...keywords),
      fc.constantFrom(...keywords).map((k) => k.slice(0, Math.max(1, k.length - 1))),
      fc.constantFrom('的', '，', ' ', '小区', 'Ａ', '已经三天'),
    );

    // Act + Assess
    expect(keywords.length).toBeGreaterThan(500);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        const got = new Set(match(text).flatMap((h) => h.matched));
        expect([...got].sort()).toEqual([...referenceMatches(text)].sort());
      }),
      { numRuns: 300, seed: 12 },
    );
  });
});
