import { describe, expect, it } from 'vitest';
import {
  MAX_JSON_BYTES,
  miniProgramMessageId,
  parseJsonBody,
  parseLoginRequest,
  parseSubmitRequest,
  type SubmitRequest,
  sniffImageType,
  submitToIntake,
} from '#channels/wechat/miniprogram.ts';
import type { Result } from '#channels/wechat/result.ts';

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`unexpected ${r.error.code}: ${JSON.stringify(r.error.details)}`);
  return r.value;
}

function code<T>(r: Result<T>): string {
  if (r.ok) throw new Error('expected a rejection');
  return r.error.code;
}

const OPENID = 'oMINIPROGRAM0001';
const RECEIVED = '2025-03-01T09:30:00+08:00';

const SUBMIT: SubmitRequest = {
  clientRequestId: 'c0ffee-0001',
  text: '  坪山街道六和社区 井盖缺失，很危险  ',
  photos: [
    { storageKey: `uploads/wechat/${OPENID}/a.jpg`, contentType: 'image/jpeg', size: 123_456 },
    { storageKey: `uploads/wechat/${OPENID}/b.png`, contentType: 'image/png', size: 2_000, name: '近景.png' },
  ],
  location: { latitude: 22.7081, longitude: 114.3523, type: 'gcj02', accuracy: 30, address: '坪山大道 123 号' },
  nature: '求助',
};

describe('Function: parseLoginRequest', () => {
  it('should accept a wx.login code and refuse anything else', () => {
    // Assess
    expect(value(parseLoginRequest({ code: '0a3XyZ_-9' }))).toEqual({ code: '0a3XyZ_-9' });
    expect(code(parseLoginRequest({ code: '' }))).toBe('INVALID_REQUEST');
    expect(code(parseLoginRequest({ code: 'a b' }))).toBe('INVALID_REQUEST');
    expect(code(parseLoginRequest({}))).toBe('INVALID_REQUEST');
    expect(code(parseLoginRequest('code'))).toBe('INVALID_REQUEST');
  });
});

describe('Function: parseSubmitRequest', () => {
  it('should accept a full submission and trim the text', () => {
    // Act
    const r = value(parseSubmitRequest(SUBMIT));

    // Assess
    expect(r.text).toBe('坪山街道六和社区 井盖缺失，很危险');
    expect(r.photos).toHaveLength(2);
  });

  it.each([
    ['an empty text', { ...SUBMIT, text: '   ' }],
    ['a short client id', { ...SUBMIT, clientRequestId: 'abc' }],
    ['ten photos', { ...SUBMIT, photos: Array.from({ length: 10 }, () => SUBMIT.photos?.[0]) }],
    ['a photo that is a PDF', { ...SUBMIT, photos: [{ storageKey: 'k', contentType: 'application/pdf', size: 1 }] }],
    ['a photo of 0 bytes', { ...SUBMIT, photos: [{ storageKey: 'k', contentType: 'image/png', size: 0 }] }],
    [
      'a key climbing out',
      { ...SUBMIT, photos: [{ storageKey: 'uploads/../etc', contentType: 'image/png', size: 1 }] },
    ],
    ['a latitude of 91', { ...SUBMIT, location: { latitude: 91, longitude: 114 } }],
    ['an unknown datum', { ...SUBMIT, location: { latitude: 22, longitude: 114, type: 'bd09' } }],
    ['an unknown nature', { ...SUBMIT, nature: '抱怨' }],
  ])('should refuse %s with INVALID_REQUEST and the offending path', (_what, body) => {
    // Act
    const r = parseSubmitRequest(body);

    // Assess
    expect(code(r)).toBe('INVALID_REQUEST');
    expect(r.ok ? [] : r.error.details).not.toEqual([]);
  });
});

describe('Function: submitToIntake', () => {
  it('should map to the intake form, scoping the idempotency key to the citizen and keeping GCJ-02', () => {
    // Prepare
    const submit = value(parseSubmitRequest(SUBMIT));

    // Act
    const intake = value(
      submitToIntake(submit, { openid: OPENID, receivedAt: RECEIVED, photoKeyPrefix: `uploads/wechat/${OPENID}/` }),
    );

    // Assess
    expect(intake).toEqual({
      channel: 'wechat',
      channelMessageId: `mp:${OPENID}:c0ffee-0001`,
      receivedAt: RECEIVED,
      citizen: { openid: OPENID },
      title: '坪山街道六和社区 井盖缺失，很危险',
      text: '坪山街道六和社区 井盖缺失，很危险',
      location: { lat: 22.7081, lon: 114.3523, datum: 'GCJ02', address: '坪山大道 123 号' },
      attachments: [
        {
          name: 'photo-1.jpeg',
          contentType: 'image/jpeg',
          size: 123_456,
          storageKey: `uploads/wechat/${OPENID}/a.jpg`,
        },
        { name: '近景.png', contentType: 'image/png', size: 2_000, storageKey: `uploads/wechat/${OPENID}/b.png` },
      ],
      nature: '求助',
    });
  });

  it('should keep a WGS-84 location as WGS84 and use the given title', () => {
    // Prepare
    const submit = value(
      parseSubmitRequest({
        clientRequestId: 'req-000002',
        text: 'x',
        title: '标题',
        location: { latitude: 1, longitude: 2, type: 'wgs84' },
      }),
    );

    // Act
    const intake = value(submitToIntake(submit, { openid: OPENID, receivedAt: RECEIVED }));

    // Assess
    expect(intake.title).toBe('标题');
    expect(intake.location).toEqual({ lat: 1, lon: 2, datum: 'WGS84' });
    expect(intake.attachments).toBeUndefined();
  });

  it("should refuse another citizen's photo with FOREIGN_UPLOAD (403)", () => {
    // Prepare
    const submit = value(
      parseSubmitRequest({
        ...SUBMIT,
        photos: [{ storageKey: 'uploads/wechat/oSOMEONE/a.jpg', contentType: 'image/jpeg', size: 1 }],
      }),
    );

    // Act
    const r = submitToIntake(submit, {
      openid: OPENID,
      receivedAt: RECEIVED,
      photoKeyPrefix: `uploads/wechat/${OPENID}/`,
    });

    // Assess
    expect(code(r)).toBe('FOREIGN_UPLOAD');
    expect(r.ok ? 0 : r.error.status).toBe(403);
  });

  it('should refuse an openid the intake form cannot hold', () => {
    // Prepare
    const submit = value(parseSubmitRequest(SUBMIT));

    // Act
    const r = submitToIntake(submit, { openid: 'o'.repeat(129), receivedAt: RECEIVED });

    // Assess
    expect(code(r)).toBe('INVALID_REQUEST');
  });

  it('should give two citizens with the same client id different message ids', () => {
    // Assess
    expect(miniProgramMessageId('oA', 'same-id-1')).not.toBe(miniProgramMessageId('oB', 'same-id-1'));
  });
});

describe('Function: parseJsonBody', () => {
  it('should parse JSON and refuse empty, malformed and oversized bodies', () => {
    // Assess
    expect(value(parseJsonBody('{"a":1}'))).toEqual({ a: 1 });
    expect(code(parseJsonBody(undefined))).toBe('MALFORMED_JSON');
    expect(code(parseJsonBody('{a:1}'))).toBe('MALFORMED_JSON');
    expect(code(parseJsonBody(`"${'长'.repeat(MAX_JSON_BYTES / 2)}"`))).toBe('BODY_TOO_LARGE');
  });
});

describe('Function: sniffImageType', () => {
  it.each([
    ['JPEG', [0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'image/jpeg'],
    ['PNG', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0], 'image/png'],
    ['WebP', [...Buffer.from('RIFF'), 1, 2, 3, 4, ...Buffer.from('WEBPVP8 ')], 'image/webp'],
    ['HEIC', [0, 0, 0, 0x18, ...Buffer.from('ftypheic'), 0, 0], 'image/heic'],
    ['a GIF', [...Buffer.from('GIF89a'), 0, 0], undefined],
    ['an HTML page', [...Buffer.from('<html><script>')], undefined],
    ['an MP4 video', [0, 0, 0, 0x18, ...Buffer.from('ftypisom'), 0, 0], undefined],
    ['nothing', [], undefined],
  ])('should recognise %s by its first bytes', (_what, bytes, expected) => {
    // Act
    const type = sniffImageType(Uint8Array.from(bytes as number[]));

    // Assess
    expect(type).toBe(expected);
  });
});
