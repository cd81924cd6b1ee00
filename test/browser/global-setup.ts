/**
 * Vitest global setup: builds the pages once before any test file runs, when web/dist is missing or stale, so every
 * test that requests a page (the browser tests, the local-stack tests that GET `/`) finds the built pages.
 * Wire it in vitest.config.ts: `globalSetup: ['test/browser/global-setup.ts']`.
 */
import { buildPages } from './build.ts';

export default async function setup(): Promise<void> {
  await buildPages();
}
