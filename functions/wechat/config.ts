/**
 * WeChat configuration, read once per container: env vars, optionally overlaid with a Secrets Manager secret
 * (`adapters/secrets/secrets.ts`).
 *
 * Env: WECHAT_TOKEN, WECHAT_ENCODING_AES_KEY, WECHAT_APP_ID, WECHAT_ALLOW_PLAIN (`true`) for the message push;
 * WECHAT_MP_APP_ID (default WECHAT_APP_ID), WECHAT_MP_APP_SECRET, WECHAT_API_BASE (default https://api.weixin.qq.com),
 * WECHAT_SESSION_SECRET, WECHAT_SESSION_TTL_SECONDS (default 7200) for the mini-program.
 * WECHAT_SECRET_ID: a secret whose SecretString is a JSON object with any of the keys above (secrets win over env).
 */
import { readSecretJson, SecretFormatError, type SecretReader } from '#adapters/secrets/secrets.ts';
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

function notConfigured(message: string): CityLoopError {
  return new CityLoopError('WECHAT_NOT_CONFIGURED', message, 500);
}

/** The secret's settings (only the WeChat keys), read through the shared Secrets Manager reader. */
export async function fetchSecretValues(secretId: string, read: SecretReader = readSecretJson): Promise<Values> {
  let secret: Record<string, unknown>;
  try {
    secret = await read(secretId);
  } catch (e) {
    throw notConfigured(
      e instanceof SecretFormatError
        ? 'the WeChat secret must be a JSON object'
        : 'the WeChat secret could not be read',
    );
  }
  const out: Values = {};
  for (const k of KEYS) {
    const v = secret[k];
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
  read?: SecretReader,
): Promise<WechatConfig> {
  const values: Values = {};
  for (const k of KEYS) {
    const v = env[k];
    if (v !== undefined && v !== '') values[k] = v;
  }
  const secretId = env.WECHAT_SECRET_ID;
  if (secretId) Object.assign(values, await fetchSecretValues(secretId, read));
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
