/**
 * A bundle whose blob port (S3) loads in a lazy chunk (`infra/bundling.ts` code splitting): one PUT through
 * `getRuntime().blobs` to the endpoint the test gives, so the chunk is loaded, linked and used for real.
 */
import { getRuntime } from '#functions/lib/runtime.ts';

export const handler = async (event: { endpoint: string }) => {
  process.env.AWS_ENDPOINT_URL_S3 = event.endpoint;
  process.env.AWS_REGION = 'cn-north-1';
  process.env.BLOB_BUCKET = 'b';
  delete process.env.CITYLOOP_DATA_DIR;
  await getRuntime().blobs.put('lazy/k.txt', new TextEncoder().encode('路灯'), 'text/plain');
  return { ok: true };
};
