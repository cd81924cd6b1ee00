/**
 * WeChat configuration, read once per container: env vars, optionally overlaid with a Secrets Manager secret read
 * through the AWS Parameters and Secrets Lambda Extension (a loopback HTTP call, no SDK in the bundle).
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_lambda.html
 *
 * Env: WECHAT_TOKEN, WECHAT_ENCODING_AES_KEY, WECHAT_APP_ID, WECHAT_ALLOW_PLAIN (`true`) for the message push;
 * WECHAT_MP_APP_ID (default WECHAT_APP_ID), WECHAT_MP_APP_SECRET, WECHAT_API_BASE (default https://api.weixin.qq.com),
 * WECHAT_SESSION_SECRET, WECHAT_SESSION_TTL_SECONDS (default 7200) for the mini-program.
 * WECHAT_SECRET_ID: a secret whose SecretString is a JSON object with any of the keys above (secrets win over env).
 */
import { CityLoopError } from '#core/errors.ts';

export interface WechatConfig {
  token?: string;
  encodingAesKey?: string;
  appId?: string;
  allowPlain: boolean;
  miniProgram: {
    appId?: string;
    appSecret?: string;
    apiBase: string;
    sessionSecret?: string;
    sessionTtlSeconds: number;
  };
}

const KEYS = [
  'WECHAT_TOKEN',
  'WECHAT_ENCODING_AES_KEY',
  'WECHAT_APP_ID',
  'WECHAT_ALLOW_PLAIN',
  'WECHAT_MP_APP_ID',
  'WECHAT_MP_APP_SECRET',
  'WECHAT_API_BASE',
  'WECHAT_SESSION_SECRET',
  'WECHAT_SESSION_TTL_SECONDS',
] as const;
type Key = (typeof KEYS)[number];
type Values = Partial<Record<Key, string>>;

const DEFAULT_EXTENSION_PORT = '2773';

function notConfigured(message: string): CityLoopError {
  return new CityLoopError('WECHAT_NOT_CONFIGURED', message, 500);
}

/** The secret's JSON, fetched through the Lambda extension on loopback. */
export async function fetchSecretValues(
  secretId: string,
  env: NodeJS.ProcessEnv,
  fetchFn: typeof fetch = fetch,
): Promise<Values> {
  const port = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? DEFAULT_EXTENSION_PORT;
  if (!/^\d{1,5}$/.test(port)) throw notConfigured('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is not a port');
  const url = `http://127.0.0.1:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`;
  let res: Response;
  try {
    res = await fetchFn(url, {
      headers: { 'X-Aws-Parameters-Secrets-Token': env.AWS_SESSION_TOKEN ?? '' },
      signal: AbortSignal.timeout(3000),
    });
  } catch {
    throw notConfigured('the secrets extension could not be reached');
  }
  if (!res.ok) throw notConfigured(`the secrets extension answered HTTP ${res.status}`);
  let secret: unknown;
  try {
    const outer = (await res.json()) as { SecretString?: unknown };
    secret = typeof outer.SecretString === 'string' ? JSON.parse(outer.SecretString) : undefined;
  } catch {
    throw notConfigured('the WeChat secret is not JSON');
  }
  if (typeof secret !== 'object' || secret === null || Array.isArray(secret)) {
    throw notConfigured('the WeChat secret must be a JSON object');
  }
  const out: Values = {};
  for (const k of KEYS) {
    const v = (secret as Record<string, unknown>)[k];
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

export function configFromValues(v: Values): WechatConfig {
  const ttl = Number(v.WECHAT_SESSION_TTL_SECONDS ?? 7200);
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 30 * 86400) {
    throw notConfigured('WECHAT_SESSION_TTL_SECONDS must be an integer between 60 and 2592000');
  }
  const appId = v.WECHAT_APP_ID;
  const mpAppId = v.WECHAT_MP_APP_ID ?? appId;
  return {
    ...(v.WECHAT_TOKEN ? { token: v.WECHAT_TOKEN } : {}),
    ...(v.WECHAT_ENCODING_AES_KEY ? { encodingAesKey: v.WECHAT_ENCODING_AES_KEY } : {}),
    ...(appId ? { appId } : {}),
    allowPlain: v.WECHAT_ALLOW_PLAIN === 'true',
    miniProgram: {
      ...(mpAppId ? { appId: mpAppId } : {}),
      ...(v.WECHAT_MP_APP_SECRET ? { appSecret: v.WECHAT_MP_APP_SECRET } : {}),
      apiBase: v.WECHAT_API_BASE ?? 'https://api.weixin.qq.com',
      ...(v.WECHAT_SESSION_SECRET ? { sessionSecret: v.WECHAT_SESSION_SECRET } : {}),
      sessionTtlSeconds: ttl,
    },
  };
}

/** Env values, overlaid with the secret named by WECHAT_SECRET_ID when set. */
export async function loadWechatConfig(
  env: NodeJS.ProcessEnv = process.env,
  fetchFn?: typeof fetch,
): Promise<WechatConfig> {
  const values: Values = {};
  for (const k of KEYS) {
    const v = env[k];
    if (v !== undefined && v !== '') values[k] = v;
  }
  const secretId = env.WECHAT_SECRET_ID;
  if (secretId) Object.assign(values, await fetchSecretValues(secretId, env, fetchFn));
  return configFromValues(values);
}

let cached: Promise<WechatConfig> | undefined;

/** Once per container; a failed load is retried on the next request instead of being cached. */
export function wechatConfig(): Promise<WechatConfig> {
  cached ??= loadWechatConfig().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

/** Tests and the local stack change env between runs. */
export function resetWechatConfig(): void {
  cached = undefined;
}

export function requireValue<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw notConfigured(`${name} is not configured`);
  return value;
}
