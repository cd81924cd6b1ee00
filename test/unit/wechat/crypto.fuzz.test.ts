import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WXBizMsgCrypt } from '#channels/wechat/crypto.ts';
import { CityLoopError } from '#core/errors.ts';
import { appIdOf, encryptOf, vector } from './vectors.ts';

/** Short by default; `FUZZ_RUNS=20000` for a deep run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const V = vector('wechatpy_work_decrypt_message');
const crypt = new WXBizMsgCrypt({ token: V.token, encodingAesKey: V.encoding_aes_key ?? '', appId: appIdOf(V) });
const GOOD = Buffer.from(encryptOf(V), 'base64');

/** Decrypt either succeeds or fails with a clean 4xx CityLoopError. */
function decryptsOrRejectsCleanly(text: string): string | undefined {
  try {
    return crypt.decrypt(text);
  } catch (e) {
    expect(e).toBeInstanceOf(CityLoopError);
    const status = (e as CityLoopError).status;
    expect(status >= 400 && status < 500).toBe(true);
    return undefined;
  }
}

describe('Fuzz: WXBizMsgCrypt.decrypt', () => {
  it('should never crash on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        decryptsOrRejectsCleanly(s);
      }),
      { numRuns: RUNS },
    );
  });

  it('should never crash on arbitrary bytes of block-aligned length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.uint8Array({ minLength: 256, maxLength: 256 }),
        (blocks, bytes) => {
          decryptsOrRejectsCleanly(Buffer.from(bytes.subarray(0, blocks * 32)).toString('base64'));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('should never accept a bit flip in the message part (only the random prefix block is unauthenticated)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: GOOD.length * 8 - 1 }), (bit) => {
        // Prepare
        const tampered = Buffer.from(GOOD);
        const byte = bit >> 3;
        tampered[byte] = (tampered[byte] ?? 0) ^ (1 << (bit & 7));

        // Act
        const out = decryptsOrRejectsCleanly(tampered.toString('base64'));

        // Assess: CBC without a MAC only lets a flip in block 0 pass (it garbles the random prefix); the signature
        // is what protects the rest, and push.ts always checks it first.
        if (out !== undefined) expect(byte).toBeLessThan(16);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('Fuzz: WXBizMsgCrypt.encrypt', () => {
  it('should round-trip any well-formed text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        // Act
        const enc = crypt.encrypt(text);

        // Assess
        expect(Buffer.from(enc, 'base64').length % 32).toBe(0);
        expect(crypt.decrypt(enc)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });
});
