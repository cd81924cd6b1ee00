import { describe, expect, it } from 'vitest';
import { findClient } from '#channels/open311/clients.ts';
import { parseOpen311Config } from '#channels/open311/config.ts';
import { loadOpen311Settings } from '#functions/open311/config.ts';
import configFile from '../../../config/open311.json' with { type: 'json' };

const DEMO = 'cityloop-open311-demo-key';

describe('Config: Open311 settings', () => {
  it('should ship a valid config whose services all exist in the taxonomy', async () => {
    const s = await loadOpen311Settings({});
    expect(s.jurisdictionId).toBe('12345.pingshan.example.gov.cn');
    expect(s.catalog.get('SZ-01')?.attributes.map((a) => a.code)).toEqual(['fault', 'pole_number']);
    expect(s.catalog.get('GY-06')?.attributes[0]).toMatchObject({ variable: false });
  });

  it('should honour the demo key only outside Lambda', async () => {
    expect(findClient((await loadOpen311Settings({})).clients, DEMO)?.id).toBe('demo');
    expect(findClient((await loadOpen311Settings({ AWS_LAMBDA_FUNCTION_NAME: 'f' })).clients, DEMO)).toBeUndefined();
  });

  it('should register OPEN311_API_KEY and OPEN311_CLIENTS with their rates, and override the jurisdiction', async () => {
    const s = await loadOpen311Settings({
      AWS_LAMBDA_FUNCTION_NAME: 'f',
      OPEN311_API_KEY: 'env-key-0000000000',
      OPEN311_CLIENTS: JSON.stringify([{ id: 'fms', keySha256: 'a'.repeat(64), perMinute: 5, burst: 2 }]),
      OPEN311_JURISDICTION_ID: 'other.example.cn',
      OPEN311_BASE_URL: 'https://12345.example.cn/open311/v2/',
    });
    expect(s.clients.map((c) => [c.id, c.rate])).toEqual([
      ['env', { perMinute: 60, burst: 30 }],
      ['fms', { perMinute: 5, burst: 2 }],
    ]);
    expect(s.jurisdictionId).toBe('other.example.cn');
    expect(s.publicBaseUrl).toBe('https://12345.example.cn/open311/v2');
  });

  it('should read client keys from Secrets Manager', async () => {
    const asked: string[] = [];
    const read = async (id: string) => {
      asked.push(id);
      return { clients: [{ id: 'fixmystreet', key: 'secret-key-000000000' }] };
    };
    const s = await loadOpen311Settings({ AWS_LAMBDA_FUNCTION_NAME: 'f', OPEN311_SECRET_ID: 'cityloop/open311' }, read);
    expect(findClient(s.clients, 'secret-key-000000000')?.id).toBe('fixmystreet');
    expect(asked).toEqual(['cityloop/open311']);
  });

  it.each([
    ['a client list that is not JSON', { OPEN311_CLIENTS: '[' }],
    [
      'a client with both key and digest',
      { OPEN311_CLIENTS: JSON.stringify([{ id: 'x', key: 'k'.repeat(20), keySha256: 'a'.repeat(64) }]) },
    ],
    ['a too-short key', { OPEN311_API_KEY: 'short' }],
  ])('should refuse %s as not configured', async (_name, env) => {
    await expect(loadOpen311Settings(env)).rejects.toMatchObject({ code: 'OPEN311_NOT_CONFIGURED', status: 500 });
  });

  it('should refuse a config naming a service the taxonomy lacks, or a list attribute without values', async () => {
    const bad = structuredClone(configFile);
    (bad.services as Record<string, unknown>)['XX-01'] = { description: '不存在' };
    await expect(loadOpen311Settings({}, undefined, bad)).rejects.toThrow(/XX-01/);
    const noValues = structuredClone(configFile);
    delete (noValues.services['SZ-03'].attributes[0] as { values?: unknown }).values;
    expect(() => parseOpen311Config(noValues)).toThrow(/list datatypes need values/);
  });
});
