import { describe, expect, it } from 'vitest';
import type { BlobStore } from '#core/ports.ts';
import { webPhotoAttachments } from '#functions/http/photos.ts';
import { noPhotos } from '#functions/http/requests.ts';

/** Blobs that fail the test if read: a submission `noPhotos` lets through must not need storage. */
const untouchable: BlobStore = {
  put: async () => {
    throw new Error('no blob write expected');
  },
  get: async () => {
    throw new Error('no blob read expected');
  },
};

describe('Function: noPhotos', () => {
  it('should skip exactly the submissions webPhotoAttachments answers without looking at storage', async () => {
    // Prepare
    const values: unknown[] = [undefined, null, '', [], 'x', 0, false, {}, [{ storageKey: 'nope' }]];

    // Act
    const outcomes = await Promise.all(
      values.map(async (photos) => ({
        skipped: noPhotos(photos),
        result: await webPhotoAttachments(photos, { blobs: untouchable }).then(
          (r) => ({ value: r }),
          (e: { code?: string }) => ({ code: e.code }),
        ),
      })),
    );

    // Assess
    expect(outcomes.slice(0, 3)).toEqual([
      { skipped: true, result: { value: undefined } },
      { skipped: true, result: { value: undefined } },
      { skipped: true, result: { value: undefined } },
    ]);
    expect(outcomes.slice(3).every((o) => !o.skipped)).toBe(true);
    expect(outcomes[3]?.result).toEqual({ value: undefined });
    expect(outcomes[4]?.result).toEqual({ code: 'INVALID_REQUEST' });
    expect(outcomes[8]?.result).toEqual({ code: 'FOREIGN_UPLOAD' });
  });
});
