/**
 * A stand-in for `@aws-sdk/credential-provider-node` in Lambda bundles: Lambda always hands the execution role's
 * credentials to the function in env (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the SDK's
 * default chain (env, SSO, ini files, process, web identity, container and instance metadata, with the nested STS/SSO
 * clients they need) is dead weight there: ~110 kB of every bundle and ~18 ms of every cold start
 * (`npm run bench -- coldstart`, "env-only credentials"). Swapped in at bundle time with esbuild's
 * `--alias:@aws-sdk/credential-provider-node=./adapters/aws/env-credentials.ts`; never used locally or in tests,
 * where the real chain runs. Same exports as the package, same env semantics as its `fromEnv`.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */

export interface EnvCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  credentialScope?: string;
  accountId?: string;
}

/** The credentials in `env`, or an error naming what is missing (as the SDK's `fromEnv` does). */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): EnvCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    const e = new Error('Unable to find environment variable credentials.');
    e.name = 'CredentialsProviderError';
    throw e;
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    ...(env.AWS_CREDENTIAL_EXPIRATION ? { expiration: new Date(env.AWS_CREDENTIAL_EXPIRATION) } : {}),
    ...(env.AWS_CREDENTIAL_SCOPE ? { credentialScope: env.AWS_CREDENTIAL_SCOPE } : {}),
    ...(env.AWS_ACCOUNT_ID ? { accountId: env.AWS_ACCOUNT_ID } : {}),
  };
}

/** `defaultProvider(init)` of the package: a provider reading env on each call. */
export const defaultProvider =
  (_init?: unknown): (() => Promise<EnvCredentials>) =>
  async () =>
    credentialsFromEnv();

/** Env credentials are never refreshed by the SDK. */
export const credentialsWillNeedRefresh = (_credentials?: unknown): boolean => false;
export const credentialsTreatedAsExpired = (_credentials?: unknown): boolean => false;
