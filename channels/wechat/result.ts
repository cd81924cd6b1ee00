/**
 * Rejections of bad input are returned as values (`{ ok: false, error }`), so a handler maps them to a 4xx answer
 * without try/catch; infrastructure failures (a store that is down) stay exceptions and surface as 5xx.
 */
import { CityLoopError } from '#core/errors.ts';

export type Result<T> = { ok: true; value: T } | { ok: false; error: CityLoopError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(error: CityLoopError): Result<T> => ({ ok: false, error });

/** Runs `fn`; a thrown client error (`CityLoopError` with a 4xx status) becomes a failed result, anything else rethrows. */
export async function attempt<T>(fn: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return ok(await fn());
  } catch (e) {
    if (e instanceof CityLoopError && e.status >= 400 && e.status < 500) return fail(e);
    throw e;
  }
}
