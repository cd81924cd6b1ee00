/** The shared WXBizMsgCrypt conformance vectors (../shared/data/wechat), typed for the tests. */
import { readFileSync } from 'node:fs';

export interface Vector {
  id: string;
  token: string;
  encoding_aes_key?: string;
  app_id?: string;
  receive_id?: string;
  timestamp?: string;
  nonce?: string;
  query?: Record<string, string>;
  post_body?: string;
  encrypt?: string;
  input?: { plaintext: string; random_prefix: string; timestamp: string; nonce: string };
  expected: Record<string, unknown>;
  negative_case?: { nonce: string; expected: string };
}

const url = new URL('../../../../shared/data/wechat/wxbizmsgcrypt-vectors.json', import.meta.url);
export const vectors: Vector[] = (JSON.parse(readFileSync(url, 'utf8')) as { vectors: Vector[] }).vectors;

export function vector(id: string): Vector {
  const v = vectors.find((x) => x.id === id);
  if (!v) throw new Error(`vector ${id} missing from the shared data`);
  return v;
}

/** The Encrypt element of a vector's POST body (or its echostr / encrypt field). */
export function encryptOf(v: Vector): string {
  const fromBody = v.post_body ? /<Encrypt><!\[CDATA\[([^\]]*)\]\]><\/Encrypt>/.exec(v.post_body)?.[1] : undefined;
  const enc = v.encrypt ?? v.query?.echostr ?? fromBody;
  if (!enc) throw new Error(`vector ${v.id} has no ciphertext`);
  return enc;
}

export const appIdOf = (v: Vector): string => v.app_id ?? v.receive_id ?? '';
