/**
 * The shipped defaults: the district 事项清单 (`config/taxonomy.json`) and the model trained on the shared 12345 data
 * (`config/model/classifier.json`, retrain with `npx cityloop train`). JSON imports: esbuild bundles them, no file I/O.
 */
import artifact from '#config/model/classifier.json' with { type: 'json' };
import thresholdsFile from '#config/model/thresholds.json' with { type: 'json' };
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { type Classifier, createClassifier, type Thresholds } from './classifier.ts';
import type { ModelArtifact } from './model.ts';

export { defaultTaxonomy };
export const defaultModelArtifact = artifact as unknown as ModelArtifact;
/** The shipped auto-dispatch thresholds (`config/model/thresholds.json`: the 80 %-coverage point of cross-validation). */
export const defaultThresholds: Thresholds = {
  default: thresholdsFile.default,
  byCategory: thresholdsFile.byCategory as Record<string, number>,
};

let cached: Classifier | undefined;

/** The default classifier (taxonomy + shipped model + shipped thresholds), built once per process unless options are given. */
export function defaultClassifier(opts: { thresholds?: Thresholds } = {}): Classifier {
  if (opts.thresholds)
    return createClassifier({ taxonomy: defaultTaxonomy, model: defaultModelArtifact, thresholds: opts.thresholds });
  cached ??= createClassifier({
    taxonomy: defaultTaxonomy,
    model: defaultModelArtifact,
    thresholds: defaultThresholds,
  });
  return cached;
}
