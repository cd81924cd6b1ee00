import fc from 'fast-check';
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { describe, expect, it } from 'vitest';
import { CityLoopError } from '#core/errors.ts';
import {
  cleanText,
  deriveTitle,
  normalizeEmail,
  normalizeIntake,
  normalizePhone,
  toHalfWidth,
} from '#core/intake/normalize.ts';

const draft = (over: Record<string, unknown> = {}) => ({
  channel: 'web',
  channelMessageId: 'k1',
  receivedAt: '2025-11-28T09:30:00+08:00',
  citizen: { phone: '138 0013 8000' },
  title: '路灯不亮',
  text: '路灯坏了',
  ...over,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof CityLoopError ? e.code : 'NOT_A_CITYLOOP_ERROR';
  }
  return undefined;
}

describe('Function: normalizeIntake', () => {
  it('should turn full-width digits and letters half-width, and leave Chinese punctuation in free text alone', () => {
    expect(toHalfWidth('和平路８８号Ａ座　３０１')).toBe('和平路88号A座 301');
    expect(cleanText('路灯坏了，很黑。')).toBe('路灯坏了，很黑。');
  });

  it('should normalize Chinese mobiles, landlines and international numbers to E.164', () => {
    expect(normalizePhone('138 0013 8000')).toBe('+8613800138000');
    expect(normalizePhone('１３８００１３８０００')).toBe('+8613800138000');
    expect(normalizePhone('+86 138-0013-8000')).toBe('+8613800138000');
    expect(normalizePhone('0755-8888 6666')).toBe('+8675588886666');
    expect(normalizePhone('+852 9123 4567')).toBe('+85291234567');
    expect(codeOf(() => normalizePhone('12345'))).toBe('INVALID_PHONE');
  });

  it('should lower-case the email domain only', () => {
    expect(normalizeEmail('Zhang.San@QQ.COM')).toBe('Zhang.San@qq.com');
    expect(codeOf(() => normalizeEmail('not-an-email'))).toBe('INVALID_EMAIL');
  });

  it('should collapse whitespace, drop control and bidi characters, and keep paragraphs', () => {
    expect(cleanText('  第一段\r\n\r\n\r\n\r\n第二段\t\t有  空格\u202E反转\u0000  ')).toBe(
      '第一段\n\n第二段 有 空格反转',
    );
  });

  it('should keep 4-byte emoji and replace lone surrogates', () => {
    expect(cleanText('好😀')).toBe('好😀');
    expect(cleanText('坏\uD800字')).toBe('坏\uFFFD字');
  });

  it('should derive a title from the text when none is given', () => {
    const r = normalizeIntake(draft({ title: '', text: '小区门口污水外溢三天了。请尽快处理' }));
    expect(r.title).toBe('小区门口污水外溢三天了');
    expect(deriveTitle('a'.repeat(50))).toHaveLength(31);
  });

  it('should produce a valid IntakeRequest with normalized contact and address', () => {
    const r = normalizeIntake(
      draft({
        citizen: { phone: '13800138000', email: ' A@B.CN ', name: '  张三 ' },
        location: { address: '和平路８８号', lat: '22.7' },
      }),
    );
    expect(r.citizen).toEqual({ phone: '+8613800138000', email: 'A@b.cn', name: '张三' });
    expect(r.location).toEqual({ address: '和平路88号', lat: 22.7 });
  });

  it('should refuse over-long fields with FIELD_TOO_LONG and the field name, never truncating', () => {
    // Prepare
    const text = '长'.repeat(4001);
    // Act
    let err: CityLoopError | undefined;
    try {
      normalizeIntake(draft({ text }));
    } catch (e) {
      err = e as CityLoopError;
    }
    // Assess
    expect(err?.code).toBe('FIELD_TOO_LONG');
    expect(err?.details).toEqual({ field: 'text', max: 4000 });
  });

  it('should report missing fields as VALIDATION_FAILED with the paths', () => {
    let err: CityLoopError | undefined;
    try {
      normalizeIntake({ channel: 'web', channelMessageId: 'x', receivedAt: '2025-11-28T09:30:00+08:00', citizen: {} });
    } catch (e) {
      err = e as CityLoopError;
    }
    expect(err?.code).toBe('VALIDATION_FAILED');
    const paths = (err?.details as { issues: { path: string }[] } | undefined)?.issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['title', 'text']));
  });
});

const UNSAFE_REF =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the reference matches control characters too
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;

describe('Function: cleanText (fast path)', () => {
  /** The six replacements cleanText is defined by. */
  const reference = (s: string) =>
    s
      .replace(/\r\n?/g, '\n')
      .replace(UNSAFE_REF, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .replace(/[ \t\u00A0\u3000]+/g, ' ')
      .replace(/ *\n */g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  const PIECES = [' ', '\n', '\r', '\t', '\u00a0', '\u3000', 'a', '中', '，', '\u202e', '\u0000', '\u0085'];
  const SURROGATES = ['\ud800', '\udc00', '😀', '\u2028', '\ufeff', '\u200b', '\u2000', '\u000b'];

  it('should equal the replacements for any text, texts that need nothing returned as they are', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.constantFrom(...PIECES, ...SURROGATES), { maxLength: 24 }).map((a) => a.join('')),
          fc.string({ unit: 'binary', maxLength: 30 }),
        ),
        (t) => {
          // Act / Assess
          expect(cleanText(t)).toBe(reference(t));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Function: normalizePhone (mainland mobiles)', () => {
  it('should give what libphonenumber gives for every 4-digit mobile prefix, bare and with +86', () => {
    // Prepare
    const suffixes = ['0000000', '5550123', '9999999'];
    for (let prefix = 1300; prefix <= 1999; prefix++) {
      for (const suffix of suffixes) {
        for (const raw of [`${prefix}${suffix}`, `+86${prefix}${suffix}`]) {
          const lib = parsePhoneNumberFromString(raw, 'CN');
          // Act
          const ours = codeOf(() => normalizePhone(raw)) ?? normalizePhone(raw);
          // Assess
          expect(ours).toBe(lib?.isPossible() ? lib.number : 'INVALID_PHONE');
        }
      }
    }
  });
});

describe('Function: normalizeIntake (copies)', () => {
  it("should leave the caller's draft as it was", () => {
    // Prepare
    const d = draft({
      citizen: { phone: ' 138 0013 8000 ', name: ' 张三 ' },
      location: { address: '和平路８８号', lat: '22.7' },
    });
    const before = structuredClone(d);
    // Act
    const r = normalizeIntake(d);
    // Assess
    expect(d).toEqual(before);
    expect(r.citizen.phone).toBe('+8613800138000');
  });

  it('should still refuse a citizen or a location that is an array', () => {
    // Act / Assess
    expect(codeOf(() => normalizeIntake(draft({ citizen: ['13800138000'] })))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => normalizeIntake(draft({ location: ['和平路'] })))).toBe('VALIDATION_FAILED');
  });

  it('should count characters, not UTF-16 units, against the limits', () => {
    // Act / Assess: 4,000 emoji are 8,000 units and within the 4,000-character limit; one more is not
    expect(normalizeIntake(draft({ text: '😀'.repeat(4000) })).text).toHaveLength(8000);
    expect(codeOf(() => normalizeIntake(draft({ text: '😀'.repeat(4001) })))).toBe('FIELD_TOO_LONG');
  });
});
