/** The pages' one way to call the API (same origin): JSON in and out, coded errors, staff credentials. */
import { authHeaders, type Credential } from './auth.ts';
import { tr } from './i18n.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  credential?: Credential;
  signal?: AbortSignal;
}

export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        accept: 'application/json',
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...authHeaders(opts.credential),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', tr('网络连接失败，请稍后重试', 'Network error, please try again'));
  }
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? `HTTP ${res.status}`,
      err?.details,
    );
  }
  return data as T;
}

/** An error as a person reads it: the server's message (already bilingual) or a plain fallback. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 401) return tr('登录已失效，请重新登录', 'Please sign in again');
    if (e.status === 403) return tr(`无权执行此操作（${e.code}）`, `Not allowed (${e.code})`);
    if (e.status === 409 && e.code === 'CONFLICT')
      return tr('工单已被他人更新，已重新载入，请再试一次', 'The case changed meanwhile; reloaded, try again');
    return e.message;
  }
  return (e as Error)?.message ?? String(e);
}
