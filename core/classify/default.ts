/**
 * The shipped defaults: the district 事项清单 (`config/taxonomy.json`) and the model trained on the shared 12345 data
 * (`config/model/classifier.json`, retrain with `npx cityloop train`). JSON imports: esbuild bundles them, no file I/O.
 */
import artifact from '#config/model/classifier.json' with { type: 'json' };
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import { type Classifier, createClassifier, type Thresholds } from './classifier.ts';
import type { ModelArtifact } from './model.ts';

export { defaultTaxonomy };
export const defaultModelArtifact = artifact as unknown as ModelArtifact;

let cached: Classifier | undefined;

/** The default classifier (taxonomy + shipped model), built once per process unless options are given. */
export function defaultClassifier(opts: { thresholds?: Thresholds } = {}): Classifier {
  if (opts.thresholds)
    return createClassifier({ taxonomy: defaultTaxonomy, model: defaultModelArtifact, thresholds: opts.thresholds });
  cached ??= createClassifier({ taxonomy: defaultTaxonomy, model: defaultModelArtifact });
  return cached;
}
