/**
 * WXBizMsgCrypt: the signing and AES scheme WeChat (公众号, 小程序) and WeCom (企业微信, 政务微信) use for callbacks in
 * 安全模式. Spec: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 *
 * - signature = sha1(sorted([token, timestamp, nonce, encrypt?]).join(''))
 * - key = base64(EncodingAESKey + '='), 32 bytes; IV = key[0..16]; AES-256-CBC
 * - plaintext = 16 random bytes ‖ uint32be(len(msg)) ‖ msg ‖ appid (receiveid for WeCom), PKCS#7-padded to 32 bytes
 *
 * Request-side failures throw `CityLoopError` with a 4xx status; a bad configuration throws with status 500.
 * Callers must verify the signature before decrypting: padding errors are only reported for signed ciphertext,
 * so there is no padding oracle for an outsider.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CityLoopError } from '#core/errors.ts';

/** WeChat pads to 32-byte blocks, not the AES block size. */
const PAD_BLOCK = 32;
const RANDOM_BYTES = 16;
const LENGTH_BYTES = 4;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface WxCryptConfig {
  /** 令牌 Token set on the WeChat admin page. */
  token: string;
  /** 消息加解密密钥 EncodingAESKey: 43 base64 characters. */
  encodingAesKey: string;
  /** AppID (公众号/小程序) or CorpID / suite id (企业微信 receiveid): the trailer every plaintext must carry. */
  appId: string;
}

export type RandomSource = (size: number) => Buffer;

/** The fields of a decrypted plaintext. */
export interface Decrypted {
  message: string;
  /** The trailer (appid / receiveid); equal to the configured appId once `decrypt` returns. */
  receiveId: string;
  /** The 16 random prefix bytes (useful to reproduce vectors). */
  random: Buffer;
  /** PKCS#7 pad count found (1..32). */
  padLength: number;
}

/** The passive reply envelope of 安全模式. */
export interface EncryptedReply {
  encrypt: string;
  msgSignature: string;
  timestamp: string;
  nonce: string;
  /** `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>` as WeChat expects it. */
  xml: string;
}

/** Decodes and checks an EncodingAESKey; throws a 500 (configuration) error when it is unusable. */
export function deriveAesKey(encodingAesKey: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) {
    throw new CityLoopError('WECHAT_CONFIG_INVALID', 'EncodingAESKey must be 43 base64 characters', 500);
  }
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) {
    throw new CityLoopError('WECHAT_CONFIG_INVALID', 'EncodingAESKey does not decode to 32 bytes', 500);
  }
  return key;
}

/** sha1 hex of the lexicographically sorted parts, concatenated: WeChat's signature over a callback. */
export function sha1Signature(parts: readonly string[]): string {
  const sorted = [...parts].sort();
  return createHash('sha1').update(sorted.join(''), 'utf8').digest('hex');
}

/** Constant-time comparison of a received hex signature with the expected one (no early exit on first difference). */
export function signatureEquals(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Lengths are public (a sha1 hex is always 40 chars); compare against itself to keep the timing flat anyway.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Strict PKCS#7 with WeChat's 32-byte block: 1..32 bytes, all equal to the count. */
export function pkcs7Unpad(buf: Buffer): Buffer {
  const pad = buf.length > 0 ? (buf[buf.length - 1] ?? 0) : 0;
  if (pad < 1 || pad > PAD_BLOCK || pad > buf.length) {
    throw new CityLoopError('BAD_PADDING', 'invalid PKCS#7 padding', 400);
  }
  let diff = 0;
  for (let i = buf.length - pad; i < buf.length; i++) diff |= (buf[i] ?? 0) ^ pad;
  if (diff !== 0) throw new CityLoopError('BAD_PADDING', 'invalid PKCS#7 padding', 400);
  return buf.subarray(0, buf.length - pad);
}

export function pkcs7Pad(buf: Buffer): Buffer {
  const pad = PAD_BLOCK - (buf.length % PAD_BLOCK);
  return Buffer.concat([buf, Buffer.alloc(pad, pad)]);
}

export class WXBizMsgCrypt {
  readonly #token: string;
  readonly #key: Buffer;
  readonly #iv: Buffer;
  readonly #appId: string;
  readonly #random: RandomSource;

  constructor(config: WxCryptConfig, random: RandomSource = randomBytes) {
    if (!config.token || !/^[\x21-\x7e]{1,64}$/.test(config.token)) {
      throw new CityLoopError('WECHAT_CONFIG_INVALID', 'token must be 1-64 printable ASCII characters', 500);
    }
    if (!config.appId || config.appId.length > 128) {
      throw new CityLoopError('WECHAT_CONFIG_INVALID', 'appId / receiveid must be 1-128 characters', 500);
    }
    this.#token = config.token;
    this.#key = deriveAesKey(config.encodingAesKey);
    this.#iv = this.#key.subarray(0, 16);
    this.#appId = config.appId;
    this.#random = random;
  }

  /** msg_signature over (token, timestamp, nonce, encrypt). */
  signature(timestamp: string, nonce: string, encrypt: string): string {
    return sha1Signature([this.#token, timestamp, nonce, encrypt]);
  }

  /** Throws INVALID_SIGNATURE (401) unless `msgSignature` signs the ciphertext. */
  verify(msgSignature: string, timestamp: string, nonce: string, encrypt: string): void {
    if (!signatureEquals(msgSignature, this.signature(timestamp, nonce, encrypt))) {
      throw new CityLoopError('INVALID_SIGNATURE', 'msg_signature does not match', 401);
    }
  }

  /** Verifies the signature, then decrypts and checks the appid trailer. */
  verifyAndDecrypt(msgSignature: string, timestamp: string, nonce: string, encrypt: string): string {
    this.verify(msgSignature, timestamp, nonce, encrypt);
    return this.decrypt(encrypt);
  }

  /** Decrypts `encrypt` and checks the trailer equals the configured appId (APPID_MISMATCH otherwise). */
  decrypt(encrypt: string): string {
    const d = this.decryptDetailed(encrypt);
    if (d.receiveId !== this.#appId) {
      throw new CityLoopError('APPID_MISMATCH', 'ciphertext was made for another appid / receiveid', 400);
    }
    return d.message;
  }

  /** Decrypts without judging the trailer (for diagnostics and vectors). */
  decryptDetailed(encrypt: string): Decrypted {
    if (encrypt.length === 0 || !BASE64.test(encrypt)) {
      throw new CityLoopError('BAD_CIPHERTEXT', 'ciphertext is not base64', 400);
    }
    const data = Buffer.from(encrypt, 'base64');
    if (data.length === 0 || data.length % PAD_BLOCK !== 0) {
      throw new CityLoopError('BAD_CIPHERTEXT', 'ciphertext length is not a multiple of 32 bytes', 400);
    }
    const decipher = createDecipheriv('aes-256-cbc', this.#key, this.#iv);
    decipher.setAutoPadding(false);
    const padded = Buffer.concat([decipher.update(data), decipher.final()]);
    const plain = pkcs7Unpad(padded);
    const padLength = padded.length - plain.length;
    if (plain.length < RANDOM_BYTES + LENGTH_BYTES) {
      throw new CityLoopError('BAD_CIPHERTEXT', 'plaintext too short', 400);
    }
    const msgLen = plain.readUInt32BE(RANDOM_BYTES);
    const msgEnd = RANDOM_BYTES + LENGTH_BYTES + msgLen;
    if (msgEnd > plain.length) {
      throw new CityLoopError('BAD_CIPHERTEXT', 'message length exceeds plaintext', 400);
    }
    let message: string;
    let receiveId: string;
    try {
      message = utf8.decode(plain.subarray(RANDOM_BYTES + LENGTH_BYTES, msgEnd));
      receiveId = utf8.decode(plain.subarray(msgEnd));
    } catch {
      throw new CityLoopError('BAD_CIPHERTEXT', 'plaintext is not UTF-8', 400);
    }
    return { message, receiveId, random: Buffer.from(plain.subarray(0, RANDOM_BYTES)), padLength };
  }

  /** Encrypts `message` with the appid trailer; `random` (16 bytes) defaults to the injected random source. */
  encrypt(message: string, random?: Buffer): string {
    const prefix = random ?? this.#random(RANDOM_BYTES);
    if (prefix.length !== RANDOM_BYTES) throw new RangeError('random prefix must be 16 bytes');
    const msg = Buffer.from(message, 'utf8');
    const len = Buffer.alloc(LENGTH_BYTES);
    len.writeUInt32BE(msg.length, 0);
    const plain = pkcs7Pad(Buffer.concat([prefix, len, msg, Buffer.from(this.#appId, 'utf8')]));
    const cipher = createCipheriv('aes-256-cbc', this.#key, this.#iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
  }

  /** Builds the encrypted passive reply around a plaintext reply XML. */
  encryptReply(replyXml: string, timestamp: string, nonce: string, random?: Buffer): EncryptedReply {
    // Both go into the envelope verbatim: keep them to the characters WeChat uses.
    if (!/^\d{1,12}$/.test(timestamp)) throw new RangeError('timestamp must be decimal seconds');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(nonce)) throw new RangeError('nonce must be 1-64 URL-safe characters');
    const encrypt = this.encrypt(replyXml, random);
    const msgSignature = this.signature(timestamp, nonce, encrypt);
    const xml = [
      '<xml>',
      `<Encrypt><![CDATA[${encrypt}]]></Encrypt>`,
      `<MsgSignature><![CDATA[${msgSignature}]]></MsgSignature>`,
      `<TimeStamp>${timestamp}</TimeStamp>`,
      `<Nonce><![CDATA[${nonce}]]></Nonce>`,
      '</xml>',
    ].join('\n');
    return { encrypt, msgSignature, timestamp, nonce, xml };
  }
}
