import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { readSecretJson, SecretFormatError } from '#adapters/secrets/secrets.ts';

const sm = mockClient(SecretsManagerClient);

describe('Function: readSecretJson', () => {
  beforeEach(() => sm.reset());

  it('should return the JSON object of the secret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'cityloop/wechat' }).resolves({
      SecretString: JSON.stringify({ WECHAT_TOKEN: 't', clients: [{ id: 'x' }] }),
    });
    await expect(readSecretJson('cityloop/wechat')).resolves.toEqual({ WECHAT_TOKEN: 't', clients: [{ id: 'x' }] });
  });

  it.each([['plain words'], ['[1,2]'], ['null']])('should refuse a secret that is not a JSON object: %s', async (v) => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: v });
    await expect(readSecretJson('x')).rejects.toBeInstanceOf(SecretFormatError);
  });
});
