import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlobStore, FileOutbox } from '#adapters/local/files.ts';
import { S3BlobStore } from '#adapters/s3/blobs.ts';
import { SesOutbox } from '#adapters/ses/outbox.ts';
import { getRuntime, resetAwsClients, setRuntime } from '#functions/lib/runtime.ts';

const KEYS = ['TABLE_NAME', 'BLOB_BUCKET', 'CITYLOOP_DATA_DIR', 'EVENT_BUS_NAME'] as const;

describe('Function: getRuntime', () => {
  const saved: Partial<Record<(typeof KEYS)[number], string>> = {};
  beforeEach(() => {
    for (const k of KEYS) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
    process.env.AWS_REGION ??= 'us-east-1';
    resetAwsClients();
  });
  afterEach(() => {
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    resetAwsClients();
  });

  it('should build no port before it is used (a missing TABLE_NAME fails only on the store)', () => {
    // Act
    const rt = getRuntime();
    // Assess
    expect(rt.clock.now()).toBeInstanceOf(Date);
    expect(() => rt.store).toThrow('TABLE_NAME is not set');
  });

  it('should build each port once and keep it', () => {
    // Prepare
    process.env.TABLE_NAME = 'cityloop';
    // Act
    const rt = getRuntime();
    // Assess
    expect(rt.store).toBe(rt.store);
    expect(rt.trackingNumbers).toBe(getRuntime().trackingNumbers);
    expect(rt.bus).toBe(rt.bus);
  });

  it('should keep blobs and the outbox as files locally, on S3 and SES with a bucket', () => {
    // Prepare
    process.env.CITYLOOP_DATA_DIR = '/tmp/cityloop-runtime-test';
    // Assess
    expect(getRuntime().blobs).toBeInstanceOf(FileBlobStore);
    expect(getRuntime().outbox).toBeInstanceOf(FileOutbox);
    // Prepare
    process.env.BLOB_BUCKET = 'bucket';
    resetAwsClients();
    // Assess
    expect(getRuntime().blobs).toBeInstanceOf(S3BlobStore);
    expect(getRuntime().outbox).toBeInstanceOf(SesOutbox);
  });

  it('should let a test swap one port and keep the others', () => {
    // Prepare
    process.env.TABLE_NAME = 'cityloop';
    const fixed = { now: () => new Date('2026-03-10T02:00:00Z') };
    const store = getRuntime().store;
    // Act
    setRuntime({ clock: fixed });
    // Assess
    expect(getRuntime().clock).toBe(fixed);
    expect(getRuntime().store).toBe(store);
  });
});
