/**
 * Open311 clients and their api_keys. Keys are compared as SHA-256 digests with a constant-time comparison over
 * every registered client, so neither the key nor which client it almost matched leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface Rate {
  perMinute: number;
  burst: number;
}

export interface Open311Client {
  id: string;
  name?: string;
  /** Hex SHA-256 of the api_key. */
  keySha256: string;
  rate: Rate;
}

export const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** The client whose key this is, or undefined. Keys longer than 256 characters are never valid. */
export function findClient(clients: readonly Open311Client[], apiKey: string | undefined): Open311Client | undefined {
  if (!apiKey || apiKey.length > 256) return undefined;
  const presented = Buffer.from(sha256Hex(apiKey), 'hex');
  let found: Open311Client | undefined;
  for (const c of clients) {
    const known = Buffer.from(c.keySha256, 'hex');
    if (known.length === presented.length && timingSafeEqual(known, presented) && !found) found = c;
  }
  return found;
}
