import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  credentialsFromEnv,
  credentialsTreatedAsExpired,
  credentialsWillNeedRefresh,
  defaultProvider,
} from '#adapters/aws/env-credentials.ts';

describe('Function: credentialsFromEnv', () => {
  it("should read the execution role's credentials Lambda puts in env", () => {
    // Prepare
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
      AWS_CREDENTIAL_EXPIRATION: '2026-03-10T10:00:00Z',
    };
    // Act
    const c = credentialsFromEnv(env);
    // Assess
    expect(c).toEqual({
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date('2026-03-10T10:00:00Z'),
    });
  });

  it('should fail like the SDK when the credentials are missing', () => {
    expect(() => credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIA' })).toThrow(
      'Unable to find environment variable credentials.',
    );
  });
});

describe('Function: defaultProvider', () => {
  it('should sign SDK requests with the env credentials when a client uses it', async () => {
    // Prepare: a client built with the provider the way the SDK's runtime config calls it
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 's3cret' });
    try {
      const client = new DynamoDBClient({ region: 'us-east-1', credentialDefaultProvider: defaultProvider } as never);
      // Act
      const creds = await client.config.credentials();
      // Assess
      expect(creds.accessKeyId).toBe('AKIAENV');
      expect(credentialsWillNeedRefresh()).toBe(false);
      expect(credentialsTreatedAsExpired()).toBe(false);
    } finally {
      for (const [k, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
