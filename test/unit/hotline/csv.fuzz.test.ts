import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCsvRecords } from '#channels/hotline/csv.ts';

const quote = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f);

describe('Fuzz: CSV reader', () => {
  it('should read back any table written with RFC 4180 quoting', () => {
    const field = fc.string({ unit: fc.constantFrom('a', '中', ',', '"', '\n', '\r\n', ' ', '1') });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }), (rows) => {
        // Every row has a non-empty first field so no record is a blank line.
        const table = rows.map((r) => [`r${r.length}`, ...r]);
        const text = table.map((r) => r.map(quote).join(',')).join('\r\n');
        const out = readCsvRecords(text);
        expect(out.map((r) => ('fields' in r ? r.fields : r.error.code))).toEqual(table);
      }),
      { numRuns: 300 },
    );
  });

  it('should never throw on arbitrary text, and give records in line order', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '"', ',', '\n', '\r', '中', ' ') }), (text) => {
        const out = readCsvRecords(text);
        let last = 0;
        for (const r of out) {
          expect(r.line).toBeGreaterThan(last);
          last = r.line;
        }
      }),
      { numRuns: 400 },
    );
  });
});
