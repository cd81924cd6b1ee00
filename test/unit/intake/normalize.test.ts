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
