import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildXml, parseXml } from '#channels/wechat/xml.ts';
import { CityLoopError } from '#core/errors.ts';

/** Short by default; `FUZZ_RUNS=20000` for a deep run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Either fields or a clean 4xx CityLoopError: never another exception. */
function parsesOrRejectsCleanly(xml: string): void {
  try {
    const fields = parseXml(xml, { maxBytes: 16 * 1024 });
    expect(typeof fields).toBe('object');
  } catch (e) {
    expect(e).toBeInstanceOf(CityLoopError);
    const status = (e as CityLoopError).status;
    expect(status >= 400 && status < 500).toBe(true);
  }
}

const fragment = fc.oneof(
  fc.constantFrom(
    '<xml>',
    '</xml>',
    '<A>',
    '</A>',
    '<B/>',
    '<![CDATA[',
    ']]>',
    '<!--',
    '-->',
    '<!DOCTYPE x [',
    '<!ENTITY e "v">',
    ']>',
    '&e;',
    '&amp;',
    '&#x4e2d;',
    '&#1114112;',
    '&',
    '<?xml version="1.0"?>',
    '<__proto__>',
    '<constructor>',
    '<a x="1">',
    '"',
    '<',
    '>',
    '\u0000',
    '\uFEFF',
  ),
  fc.string({ maxLength: 12 }),
);

/** Strings built from XML-significant pieces reach far deeper into the parser than random text does. */
const xmlish = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

describe('Fuzz: parseXml', () => {
  it('should never crash on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => parsesOrRejectsCleanly(s)),
      { numRuns: RUNS },
    );
  });

  it('should never crash on XML-like text', () => {
    fc.assert(
      fc.property(xmlish, (s) => parsesOrRejectsCleanly(s)),
      { numRuns: RUNS },
    );
  });

  it('should never crash on xml-wrapped XML-like text', () => {
    fc.assert(
      fc.property(xmlish, (s) => parsesOrRejectsCleanly(`<xml>${s}</xml>`)),
      { numRuns: RUNS },
    );
  });
});

describe('Fuzz: buildXml', () => {
  it('should round-trip any text through CDATA (minus characters XML cannot carry, line ends normalized)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.nat(), (text, n) => {
        // Prepare
        const xml = buildXml([
          ['Content', text],
          ['CreateTime', n],
        ]);

        // Act
        const back = parseXml(xml);

        // Assess
        // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 drops exactly these.
        const carried = text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
        // XML 1.0 §2.11: a parser reads CR LF and lone CR as LF.
        const expected = carried.replace(/\r\n?/g, '\n');
        expect(back).toEqual({ Content: expected, CreateTime: String(n) });
      }),
      { numRuns: RUNS },
    );
  });
});
