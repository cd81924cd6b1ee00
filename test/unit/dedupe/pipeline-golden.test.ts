import { describe, expect, it } from 'vitest';
import { createClassifier, createKeywordMatcher } from '#core/classify/classifier.ts';
import { defaultThresholds } from '#core/classify/default.ts';
import { indexTaxonomy } from '#core/classify/taxonomy.ts';
import { placeKeys } from '#core/dedupe/address.ts';
import { defaultDedupeConfig as cfg } from '#core/dedupe/defaults.ts';
import { anchorBases, candidateKeys, entryOf, prepareReport, writeKeys } from '#core/dedupe/features.ts';
import { createGroupResolver } from '#core/dedupe/groups.ts';
import { normalizeText } from '#core/dedupe/text.ts';
import { normalizeIntake } from '#core/intake/normalize.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { corpusDrafts, corpusReports, digest, stubModel } from './fixtures/pipeline-corpus.ts';
import golden from './fixtures/pipeline-golden.json' with { type: 'json' };

/**
 * The pure-CPU pipeline gives what it gave before the speed work of issue #12 (fixtures/pipeline-golden.json, made
 * with that code on the same generated corpus): intake normalization, classifier (keywords + a stand-in model),
 * dedupe features with the MinHash sketch bit for bit (index entries in DynamoDB keep it), and every key.
 */
describe('Pipeline: outputs pinned to the code before the speed work', () => {
  const reports = corpusReports();

  it('should normalize intake drafts to the same requests and refuse the same ones', () => {
    // Act
    const got = corpusDrafts(reports).map((d) => {
      try {
        return digest(normalizeIntake(d));
      } catch (e) {
        const err = e as { code?: string; details?: unknown };
        return `ERR ${err.code} ${digest(err.details ?? null)}`;
      }
    });
    // Assess
    expect(got).toEqual(golden.intake);
  });

  it('should classify the same (keywords with a model, keywords only, hints) and match the same keywords', () => {
    // Prepare
    const withModel = createClassifier({ taxonomy: defaultTaxonomy, model: stubModel, thresholds: defaultThresholds });
    const keywordsOnly = createClassifier({ taxonomy: defaultTaxonomy });
    const match = createKeywordMatcher(indexTaxonomy(defaultTaxonomy));
    // Act
    const got = reports.map((r) =>
      digest([
        withModel.classify({ title: r.title, text: r.text }),
        keywordsOnly.classify({ title: r.title, text: r.text }),
        withModel.classify({ title: r.title, text: r.text, categoryHint: r.category }),
        match(`${r.title}\n${r.text}`),
      ]),
    );
    // Assess
    expect(got).toEqual(golden.classify);
  });

  it('should give the same features, sketches and keys', () => {
    // Prepare
    const groups = createGroupResolver(cfg, defaultTaxonomy);
    // Act
    const got = reports.map((r) => {
      const f = prepareReport(r, cfg, groups);
      return digest([f, candidateKeys(f, cfg), writeKeys(f, cfg, true), anchorBases(f, cfg), entryOf(f, 'C1')]);
    });
    const texts = reports.map((r) => digest(normalizeText(`${r.title} ${r.text}`, cfg.text.stopPhrases)));
    const parts = reports.map((r) => digest(normalizeText([r.title ?? '', r.text], cfg.text.stopPhrases)));
    const places = reports.map((r) =>
      digest([placeKeys(r.location?.address ?? r.title ?? ''), placeKeys(`${r.title} ${r.text}`, { fromText: true })]),
    );
    // Assess
    expect(got).toEqual(golden.dedupe);
    expect(texts).toEqual(golden.normalizeText);
    expect(parts).toEqual(golden.normalizeText);
    expect(places).toEqual(golden.placeKeys);
  });
});
