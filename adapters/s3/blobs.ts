/** BlobStore on S3 (bucket from `BLOB_BUCKET`); server-side encryption is the bucket's default (see infra). */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '#core/ports.ts';

let client: S3Client | undefined;
export function s3Client(): S3Client {
  client ??= new S3Client({});
  return client;
}

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : undefined;
    } catch (e) {
      if (e instanceof NoSuchKey || (e as Error).name === 'NoSuchKey') return undefined;
      throw e;
    }
  }
}

/** Forget the client (the local stack re-points the SDK when it restarts in the same process). */
export function resetS3Client(): void {
  client = undefined;
}
