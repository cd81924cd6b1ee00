/**
 * Direct photo uploads on AWS: the mini-program PUTs to an S3 pre-signed URL (content type and length signed in), and
 * `submit` inspects what landed (HeadObject for size and type, the first bytes for the magic number) before it takes it.
 * The URL is signed with the function role's credentials, so the role needs s3:PutObject on the key (infra's
 * `blobs: 'readwrite'`) and the bucket key's GenerateDataKey (granted with it).
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Client } from '#adapters/s3/blobs.ts';
import type { S3PhotoPorts } from './lazy-uploads.ts';

/** What an upload left in storage. */
export interface UploadedObject {
  size: number;
  contentType?: string;
  /** The first bytes (up to 32), for the magic number. */
  head: Uint8Array;
}

/** Port of the direct-upload path; absent locally, where photos go through the `photos` route. */
export interface PhotoUploads {
  /** A URL a client can PUT exactly `size` bytes of `contentType` to, valid for `expiresIn` seconds. */
  presignPut(key: string, contentType: string, size: number, expiresIn: number): Promise<string>;
  /** The object as stored, or undefined when nothing was uploaded under the key. */
  inspect(key: string): Promise<UploadedObject | undefined>;
}

const MISSING = new Set(['NotFound', 'NoSuchKey']);

function isMissing(e: unknown): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return MISSING.has(err?.name ?? '') || err?.$metadata?.httpStatusCode === 404;
}

/** A client for signing only: no flexible checksums, which would sign a checksum of an empty body into the URL. */
export function presignClient(): S3Client {
  return new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
}

export class S3PhotoUploads implements PhotoUploads {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** Signs the URLs; defaults to `s3`. */
    private readonly signer: S3Client = s3,
  ) {}

  presignPut(key: string, contentType: string, size: number, expiresIn: number): Promise<string> {
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ContentType: contentType,
      ContentLength: size,
    });
    return getSignedUrl(this.signer, command, {
      expiresIn,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
  }

  async inspect(key: string): Promise<UploadedObject | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!head.ContentLength)
        return { size: 0, head: new Uint8Array(), ...(head.ContentType ? { contentType: head.ContentType } : {}) };
      const first = await this.s3.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: 'bytes=0-31',
          ...(head.ETag ? { IfMatch: head.ETag } : {}),
        }),
      );
      return {
        size: head.ContentLength,
        ...(head.ContentType ? { contentType: head.ContentType } : {}),
        head: first.Body ? await first.Body.transformToByteArray() : new Uint8Array(),
      };
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }
}

/**
 * The photo ports on `bucket`: uploads inspected with the container's S3 client and signed with a presigning client
 * of their own; view URLs are pre-signed GETs. (Loaded lazily through `./lazy-uploads.ts`.)
 */
export function s3PhotoPorts(bucket: string): S3PhotoPorts {
  const signer = presignClient();
  return {
    uploads: new S3PhotoUploads(s3Client(), bucket, signer),
    viewUrl: (key, expiresIn) =>
      getSignedUrl(signer, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn }),
  };
}
