import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { describe, expect, it } from 'vitest';
import { toE164 } from '#core/intake/phone.ts';
import { METADATA_FILE, phoneMetadataSubset } from '../../../scripts/phone-metadata.ts';

/** The library with its whole `min` metadata, as normalize used it before the cut. */
const full = (s: string): string | undefined => {
  const p = parsePhoneNumberFromString(s, 'CN');
  return p?.isPossible() ? p.number : undefined;
};

describe('Function: toE164 (libphonenumber-js on CN/HK/MO/TW metadata)', () => {
  it('should ship the metadata cut from the installed library (run scripts/phone-metadata.ts after an upgrade)', () => {
    expect(JSON.parse(readFileSync(METADATA_FILE, 'utf8'))).toEqual(phoneMetadataSubset());
  });

  it('should agree with the full library on every national and Greater China number', () => {
    const digits = (min: number, max: number) =>
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));
    const national = fc.oneof(
      digits(11, 11).map((d) => `1${d.slice(1)}`),
      fc
        .tuple(fc.constantFrom('10', '20', '21', '755', '769', '571', '898'), digits(6, 9))
        .map(([a, d]) => `0${a}${d}`),
      digits(3, 14).filter((d) => !d.startsWith('00')),
    );
    const greater = fc
      .tuple(fc.constantFrom('+86', '+852', '+853', '+886', '0086', '00852'), digits(3, 13))
      .map(([c, d]) => `${c}${d}`);
    fc.assert(
      fc.property(fc.oneof(national, greater), (s) => {
        expect(toE164(s)).toBe(full(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('should keep other international numbers as dialled when they have the E.164 shape', () => {
    expect(toE164('+14155550123')).toBe('+14155550123');
    expect(toE164('00442079460958')).toBe('+442079460958');
    expect(toE164('+1415')).toBeUndefined();
    expect(toE164('+0123456789')).toBeUndefined();
    expect(toE164('+1234567890123456')).toBeUndefined();
    // Greater China keeps the library's verdict: too short for +86 is refused, not kept by shape.
    expect(toE164('+8612345')).toBeUndefined();
    expect(toE164('+852123')).toBeUndefined();
    expect(toE164('+85291234567')).toBe('+85291234567');
  });
});
