import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveAesKey,
  pkcs7Pad,
  pkcs7Unpad,
  sha1Signature,
  signatureEquals,
  WXBizMsgCrypt,
} from '#channels/wechat/crypto.ts';
import { CityLoopError } from '#core/errors.ts';
import { appIdOf, encryptOf, type Vector, vector, vectors } from './vectors.ts';

const WECOM = vector('wechatpy_work_decrypt_message');

function cryptFor(v: Vector, appId = appIdOf(v)): WXBizMsgCrypt {
  return new WXBizMsgCrypt({ token: v.token, encodingAesKey: v.encoding_aes_key ?? '', appId });
}

/** AES-256-CBC over raw bytes with the vector's key: lets a test build plaintexts the library would never make. */
function rawEncrypt(v: Vector, plain: Buffer): string {
  const key = deriveAesKey(v.encoding_aes_key ?? '');
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

function frame(msg: string, appId: string, declaredLength?: number): Buffer {
  const body = Buffer.from(msg, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(declaredLength ?? body.length, 0);
  return Buffer.concat([Buffer.alloc(16, 0x61), len, body, Buffer.from(appId)]);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(CityLoopError);
    return (e as CityLoopError).code;
  }
}

describe('Class: WXBizMsgCrypt (shared vectors)', () => {
  const withCipher = vectors.filter((v) => v.encoding_aes_key && !v.input);

  it('should cover every vector in the shared file', () => {
    // Assess: one of each kind, so a new vector does not slip through untested.
    expect(vectors.length).toBeGreaterThanOrEqual(5);
    expect(withCipher.map((v) => v.id)).toEqual([
      'mp_official_python_sample_decrypt',
      'wechatpy_work_check_signature',
      'wechatpy_work_decrypt_message',
    ]);
  });

  it.each(withCipher.map((v) => [v.id, v] as const))('should verify msg_signature and decrypt %s', (_id, v) => {
    // Prepare
    const crypt = cryptFor(v);
    const enc = encryptOf(v);
    const q = v.query ?? {};

    // Act
    const plain = crypt.verifyAndDecrypt(q.msg_signature ?? '', q.timestamp ?? '', q.nonce ?? '', enc);
    const detail = crypt.decryptDetailed(enc);

    // Assess
    expect(plain).toBe(v.expected.plaintext ?? v.expected.echo_plaintext);
    expect(detail.receiveId).toBe(appIdOf(v));
    expect(detail.random.toString('latin1')).toBe(v.expected.random_prefix);
    if (v.expected.pkcs7_pad_len !== undefined) expect(detail.padLength).toBe(v.expected.pkcs7_pad_len);
  });

  it('should reproduce the url signature of the official sample', () => {
    // Prepare
    const v = vector('mp_official_python_sample_decrypt');
    const q = v.query ?? {};

    // Act
    const sig = sha1Signature([v.token, q.timestamp ?? '', q.nonce ?? '']);

    // Assess
    expect(sig).toBe(v.expected['url_signature_sha1(token,timestamp,nonce)']);
    expect(sig).toBe(q.signature);
  });

  it('should reproduce the simple callback signature', () => {
    // Prepare
    const v = vector('callback_url_signature_simple');

    // Act
    const sig = sha1Signature([v.token, v.timestamp ?? '', v.nonce ?? '']);

    // Assess
    expect(sig).toBe(v.expected.signature);
  });

  it('should encrypt deterministically to the expected reply envelope', () => {
    // Prepare
    const v = vector('wechatpy_work_encrypt_message_deterministic');
    const input = v.input;
    if (!input) throw new Error('vector without input');
    const crypt = cryptFor(v);

    // Act
    const reply = crypt.encryptReply(input.plaintext, input.timestamp, input.nonce, Buffer.from(input.random_prefix));

    // Assess
    expect(reply.encrypt).toBe(v.expected.encrypt);
    expect(reply.msgSignature).toBe(v.expected.msg_signature);
    expect(reply.xml).toBe(v.expected.response_xml);
    expect(crypt.decrypt(reply.encrypt)).toBe(input.plaintext);
  });

  it('should use the injected random source when no prefix is given', () => {
    // Prepare
    const v = vector('wechatpy_work_encrypt_message_deterministic');
    const input = v.input;
    if (!input) throw new Error('vector without input');
    const crypt = new WXBizMsgCrypt(
      { token: v.token, encodingAesKey: v.encoding_aes_key ?? '', appId: appIdOf(v) },
      (n) => Buffer.from(input.random_prefix).subarray(0, n),
    );

    // Act
    const enc = crypt.encrypt(input.plaintext);

    // Assess
    expect(enc).toBe(v.expected.encrypt);
  });

  it('should round-trip multi-byte text whose length is a multiple of 32 (a full pad block)', () => {
    // Prepare
    const crypt = cryptFor(WECOM);
    const appLen = appIdOf(WECOM).length;
    const msg = '路'.repeat(32); // 96 bytes
    const total = 16 + 4 + 96 + appLen;
    const filler = 'x'.repeat((32 - (total % 32)) % 32);

    // Act
    const enc = crypt.encrypt(msg + filler);
    const detail = crypt.decryptDetailed(enc);

    // Assess
    expect(detail.message).toBe(msg + filler);
    expect(detail.padLength).toBe(32);
  });
});

describe('Class: WXBizMsgCrypt (tampered input)', () => {
  const crypt = cryptFor(WECOM);
  const q = WECOM.query ?? {};
  const enc = encryptOf(WECOM);

  it('should refuse the negative signature case of the vectors', () => {
    // Prepare
    const v = vector('wechatpy_work_check_signature');
    const neg = v.negative_case;
    if (!neg) throw new Error('vector without negative case');

    // Act
    const code = codeOf(() =>
      cryptFor(v).verifyAndDecrypt(v.query?.msg_signature ?? '', v.query?.timestamp ?? '', neg.nonce, encryptOf(v)),
    );

    // Assess
    expect(code).toBe('INVALID_SIGNATURE');
  });

  it.each([
    ['timestamp', () => crypt.verify(q.msg_signature ?? '', '1411525904', q.nonce ?? '', enc)],
    [
      'signature digit',
      () => crypt.verify(`0${(q.msg_signature ?? '').slice(1)}`, q.timestamp ?? '', q.nonce ?? '', enc),
    ],
    [
      'upper-cased signature',
      () => crypt.verify((q.msg_signature ?? '').toUpperCase(), q.timestamp ?? '', q.nonce ?? '', enc),
    ],
    ['empty signature', () => crypt.verify('', q.timestamp ?? '', q.nonce ?? '', enc)],
    ['ciphertext', () => crypt.verify(q.msg_signature ?? '', q.timestamp ?? '', q.nonce ?? '', `A${enc.slice(1)}`)],
    [
      'token',
      () =>
        new WXBizMsgCrypt({ token: 'other', encodingAesKey: WECOM.encoding_aes_key ?? '', appId: 'x' }).verify(
          q.msg_signature ?? '',
          q.timestamp ?? '',
          q.nonce ?? '',
          enc,
        ),
    ],
  ])('should refuse a changed %s with INVALID_SIGNATURE', (_what, fn) => {
    // Act
    const code = codeOf(fn);

    // Assess
    expect(code).toBe('INVALID_SIGNATURE');
  });

  it('should refuse a ciphertext made for another appid with APPID_MISMATCH', () => {
    // Prepare
    const foreign = cryptFor(WECOM, 'wx0000000000000000').encrypt('<xml/>');

    // Act
    const code = codeOf(() => crypt.decrypt(foreign));

    // Assess
    expect(code).toBe('APPID_MISMATCH');
  });

  it('should refuse the official sample under the wrong appid with APPID_MISMATCH', () => {
    // Prepare
    const v = vector('mp_official_python_sample_decrypt');

    // Act
    const code = codeOf(() => cryptFor(v, 'wx2c2769f8efd9abc3').decrypt(encryptOf(v)));

    // Assess
    expect(code).toBe('APPID_MISMATCH');
  });

  it.each([
    ['pad byte 0', 0],
    ['pad byte 33', 33],
    ['pad byte 255', 255],
  ])('should refuse %s with BAD_PADDING', (_what, padByte) => {
    // Prepare: 64 bytes whose last byte claims an impossible pad length.
    const plain = Buffer.concat([frame('<xml/>', appIdOf(WECOM)), Buffer.alloc(64, 1)]).subarray(0, 64);
    plain[63] = padByte;

    // Act
    const code = codeOf(() => crypt.decrypt(rawEncrypt(WECOM, plain)));

    // Assess
    expect(code).toBe('BAD_PADDING');
  });

  it('should refuse padding bytes that disagree with the count (strict PKCS#7)', () => {
    // Prepare: claims 4 bytes of padding, but one of them differs.
    const framed = frame('ab', appIdOf(WECOM));
    const padded = pkcs7Pad(framed);
    const pad = padded[padded.length - 1] ?? 0;
    expect(pad).toBeGreaterThanOrEqual(2);
    padded[padded.length - 2] = pad ^ 0xff;

    // Act
    const code = codeOf(() => crypt.decrypt(rawEncrypt(WECOM, padded)));

    // Assess
    expect(code).toBe('BAD_PADDING');
  });

  it('should refuse a flipped bit in the last block (the padding block) with a 4xx', () => {
    // Prepare
    const raw = Buffer.from(enc, 'base64');
    raw[raw.length - 20] = (raw[raw.length - 20] ?? 0) ^ 0x01;

    // Act
    const code = codeOf(() => crypt.decrypt(raw.toString('base64')));

    // Assess
    expect(['BAD_PADDING', 'BAD_CIPHERTEXT', 'APPID_MISMATCH']).toContain(code);
  });

  it('should refuse a flipped bit early in the ciphertext (length field garbled) with a 4xx', () => {
    // Prepare: the IV is fixed, so flipping byte 0 garbles block 0 and shifts byte 0 of block 1 (the length field).
    const raw = Buffer.from(enc, 'base64');
    raw[0] = (raw[0] ?? 0) ^ 0x80;

    // Act
    const code = codeOf(() => crypt.decrypt(raw.toString('base64')));

    // Assess
    expect(['BAD_CIPHERTEXT', 'APPID_MISMATCH']).toContain(code);
  });

  it('should refuse a declared length beyond the plaintext with BAD_CIPHERTEXT', () => {
    // Prepare
    const plain = pkcs7Pad(frame('<xml/>', appIdOf(WECOM), 10_000));

    // Act
    const code = codeOf(() => crypt.decrypt(rawEncrypt(WECOM, plain)));

    // Assess
    expect(code).toBe('BAD_CIPHERTEXT');
  });

  it('should refuse a plaintext shorter than the 20-byte header with BAD_CIPHERTEXT', () => {
    // Prepare: 32 bytes of padding only.
    const plain = Buffer.alloc(32, 32);

    // Act
    const code = codeOf(() => crypt.decrypt(rawEncrypt(WECOM, plain)));

    // Assess
    expect(code).toBe('BAD_CIPHERTEXT');
  });

  it('should refuse a message that is not UTF-8 with BAD_CIPHERTEXT', () => {
    // Prepare
    const framed = frame('ab', appIdOf(WECOM));
    framed[20] = 0xff;

    // Act
    const code = codeOf(() => crypt.decrypt(rawEncrypt(WECOM, pkcs7Pad(framed))));

    // Assess
    expect(code).toBe('BAD_CIPHERTEXT');
  });

  it.each([
    ['empty', ''],
    ['not base64', '!!!!'],
    ['base64 with a space', `${enc.slice(0, 8)} ${enc.slice(9)}`],
    ['16 bytes (one AES block, not 32)', Buffer.alloc(16).toString('base64')],
    ['truncated by one block', Buffer.from(enc, 'base64').subarray(16).toString('base64')],
  ])('should refuse %s ciphertext with BAD_CIPHERTEXT', (_what, text) => {
    // Act
    const code = codeOf(() => crypt.decrypt(text));

    // Assess
    expect(code).toBe('BAD_CIPHERTEXT');
  });
});

describe('Function: signatureEquals', () => {
  it('should compare equal strings as equal and different lengths as different', () => {
    // Assess
    expect(signatureEquals('abc', 'abc')).toBe(true);
    expect(signatureEquals('abc', 'abd')).toBe(false);
    expect(signatureEquals('abc', 'abcd')).toBe(false);
    expect(signatureEquals('', 'a')).toBe(false);
  });
});

describe('Function: pkcs7Unpad', () => {
  it('should strip 1 to 32 bytes and refuse an empty buffer', () => {
    // Assess
    expect(pkcs7Unpad(Buffer.from([7, 1])).equals(Buffer.from([7]))).toBe(true);
    expect(pkcs7Unpad(Buffer.alloc(32, 32)).length).toBe(0);
    expect(codeOf(() => pkcs7Unpad(Buffer.alloc(0)))).toBe('BAD_PADDING');
    expect(codeOf(() => pkcs7Unpad(Buffer.from([3, 3])))).toBe('BAD_PADDING');
  });
});

describe('Function: deriveAesKey', () => {
  it.each([
    ['too short', 'abc'],
    ['44 characters', 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH'],
    ['not base64', 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!'],
  ])('should refuse a key that is %s as a configuration error', (_what, key) => {
    // Act
    let error: unknown;
    try {
      deriveAesKey(key);
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(CityLoopError);
    expect((error as CityLoopError).code).toBe('WECHAT_CONFIG_INVALID');
    expect((error as CityLoopError).status).toBe(500);
  });

  it('should refuse an unusable token or appid at construction', () => {
    // Assess
    const key = WECOM.encoding_aes_key ?? '';
    expect(() => new WXBizMsgCrypt({ token: '', encodingAesKey: key, appId: 'x' })).toThrow(CityLoopError);
    expect(() => new WXBizMsgCrypt({ token: 'a b', encodingAesKey: key, appId: 'x' })).toThrow(CityLoopError);
    expect(() => new WXBizMsgCrypt({ token: 't', encodingAesKey: key, appId: '' })).toThrow(CityLoopError);
  });

  it('should refuse reply envelope fields that would break the XML', () => {
    // Prepare
    const crypt = cryptFor(WECOM);

    // Assess
    expect(() => crypt.encryptReply('<xml/>', '12a', '1')).toThrow(RangeError);
    expect(() => crypt.encryptReply('<xml/>', '12', ']]><x>')).toThrow(RangeError);
    expect(() => crypt.encrypt('<xml/>', Buffer.alloc(8))).toThrow(RangeError);
  });
});
