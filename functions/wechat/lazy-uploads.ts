/**
 * The S3 direct-upload ports (`./s3-uploads.ts`, with the S3 client, the request presigner and S3's XML protocol)
 * loaded on their first call, so a handler that may take photos but whose request has none (most web and mini-program
 * submissions, every lookup) does not load them at its cold start. In a Lambda bundle the module is a lazy chunk
 * (code splitting, `infra/bundling.ts`); unbundled it is an ordinary dynamic import. Every method is async, so callers
 * see the same promises as from the real ports.
 */
import type { PhotoUploads } from './s3-uploads.ts';

/** What the web channel's photo routes use on AWS (`functions/http/photos.ts` `PhotoDeps['s3']`). */
export interface S3PhotoPorts {
  uploads: PhotoUploads;
  viewUrl(key: string, expiresIn: number): Promise<string>;
}

/** `load` once, on the first call; a failed load is not kept (the next call tries again). */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw e;
    });
    return loading;
  };
}

/** Direct uploads to `bucket` (signed with their own presigning client), built on first use. */
export function lazyS3PhotoPorts(bucket: string): S3PhotoPorts {
  const real = once(async () => (await import('./s3-uploads.ts')).s3PhotoPorts(bucket));
  return {
    uploads: {
      presignPut: async (key, contentType, size, expiresIn) =>
        (await real()).uploads.presignPut(key, contentType, size, expiresIn),
      inspect: async (key) => (await real()).uploads.inspect(key),
    },
    viewUrl: async (key, expiresIn) => (await real()).viewUrl(key, expiresIn),
  };
}
