/**
 * Phone numbers to E.164 with libphonenumber-js on a cut of its metadata (`config/phone/metadata.json`, made by
 * `scripts/phone-metadata.ts`): mainland China, Hong Kong, Macao and Taiwan are parsed and checked exactly as the
 * library's `min` build does (default region CN: `0755-12345678` → +8675512345678). Any other international number
 * (`+1 415 …`, `0044 20 …`) is kept as dialled when it has the E.164 shape (a country code and 7–15 digits in all): the
 * 89 kB of world metadata cost every Lambda that reads a phone more than the finer check is worth to a Chinese city.
 */
import type { MetadataJson } from 'libphonenumber-js/core';
import { parsePhoneNumberFromString } from 'libphonenumber-js/core';
import metadataFile from '#config/phone/metadata.json' with { type: 'json' };

const metadata = metadataFile as unknown as MetadataJson;
const CODES = Object.keys((metadataFile as { country_calling_codes: Record<string, unknown> }).country_calling_codes);
const E164 = /^\+[1-9]\d{6,14}$/;

/** `raw` without spaces, dashes or brackets → E.164, or undefined when it is not a possible number. */
export function toE164(compact: string): string | undefined {
  const parsed = parsePhoneNumberFromString(compact, 'CN', metadata);
  if (parsed?.isPossible()) return parsed.number;
  const intl = compact.startsWith('+') ? compact : compact.startsWith('00') ? `+${compact.slice(2)}` : undefined;
  if (intl === undefined || !E164.test(intl)) return undefined;
  // A calling code the metadata knows got the library's verdict above.
  if (CODES.some((c) => intl.startsWith(`+${c}`))) return undefined;
  return intl;
}
