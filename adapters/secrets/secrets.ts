/**
 * Channel credentials from Secrets Manager: one secret per channel holding a JSON object of settings
 * (e.g. `{"WECHAT_TOKEN": "...", "WECHAT_ENCODING_AES_KEY": "..."}`). Read with the SDK, which works in every
 * partition (the Lambda secrets extension has no arm64 build in the China regions); callers cache per container.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

let client: SecretsManagerClient | undefined;

export type SecretReader = (secretId: string) => Promise<Record<string, unknown>>;

export class SecretFormatError extends Error {}

/** The secret's JSON object. Never logs the value. */
export const readSecretJson: SecretReader = async (secretId) => {
  client ??= new SecretsManagerClient({ maxAttempts: 3 });
  const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? '');
  } catch {
    throw new SecretFormatError(`secret ${secretId} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SecretFormatError(`secret ${secretId} must be a JSON object`);
  }
  return parsed as Record<string, unknown>;
};
