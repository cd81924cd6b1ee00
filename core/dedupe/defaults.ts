/** The shipped dedupe configuration (`config/dedupe.json`), validated once. A city replaces the JSON file. */
import dedupeFile from '../../config/dedupe.json' with { type: 'json' };
import { type DedupeConfig, parseDedupeConfig } from './config.ts';

export const defaultDedupeConfig: DedupeConfig = parseDedupeConfig(dedupeFile);
