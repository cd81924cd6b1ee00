/**
 * Writes `config/phone/metadata.json`: libphonenumber-js's `min` metadata cut to the regions CityLoop validates
 * precisely (mainland China, Hong Kong, Macao, Taiwan), 5 kB instead of 89 kB in every Lambda that reads a phone.
 * Run after upgrading libphonenumber-js (a unit test fails while the file and the installed library differ):
 *
 *   npx tsx scripts/phone-metadata.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PHONE_REGIONS = ['CN', 'HK', 'MO', 'TW'] as const;

interface MetadataJson {
  version: number;
  country_calling_codes: Record<string, string[]>;
  countries: Record<string, unknown>;
  nonGeographic?: Record<string, unknown>;
}

/** The subset of the installed library's `min` metadata (same format; the library's version recorded beside it). */
export function phoneMetadataSubset(): MetadataJson & { libphonenumberJs: string; regions: string[] } {
  const require = createRequire(import.meta.url);
  const full = JSON.parse(readFileSync(require.resolve('libphonenumber-js/metadata.min.json'), 'utf8')) as MetadataJson;
  const pkg = JSON.parse(
    readFileSync(join(dirname(require.resolve('libphonenumber-js/metadata.min.json')), 'package.json'), 'utf8'),
  ) as { version: string };
  const keep = new Set<string>(PHONE_REGIONS);
  const codes: Record<string, string[]> = {};
  for (const [code, regions] of Object.entries(full.country_calling_codes)) {
    const kept = regions.filter((r) => keep.has(r));
    if (kept.length) codes[code] = kept;
  }
  const countries: Record<string, unknown> = {};
  for (const r of PHONE_REGIONS) countries[r] = full.countries[r];
  return {
    libphonenumberJs: pkg.version,
    regions: [...PHONE_REGIONS],
    version: full.version,
    country_calling_codes: codes,
    countries,
    nonGeographic: {},
  };
}

export const METADATA_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'config', 'phone', 'metadata.json');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(METADATA_FILE, `${JSON.stringify(phoneMetadataSubset())}\n`);
  process.stdout.write(`wrote ${METADATA_FILE}\n`);
}
