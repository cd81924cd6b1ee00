/** In-memory stand-ins for the handler ports, so handler tests run without AWS or the local stack. */
import type { Case } from '#core/case.ts';
import type { TrackingNo } from '#core/ids.ts';
import { type Accepted, idemKeyOf } from '#core/intake/accept.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { BlobStore, ReportCursor, StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import type { HttpEvent } from '#functions/lib/http.ts';

export class MemoryBlobs implements BlobStore {
  readonly items = new Map<string, { body: Uint8Array; type: string }>();
  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    this.items.set(key, { body, type: contentType });
  }
  async get(key: string): Promise<Uint8Array | undefined> {
    return this.items.get(key)?.body;
  }
  text(key: string): string | undefined {
    const b = this.items.get(key)?.body;
    return b ? Buffer.from(b).toString('utf8') : undefined;
  }
}

/** Accepts idempotently on channel + message id, numbering reports of the day like the real allocator. */
export class MemoryReports {
  readonly reports: StoredReport[] = [];
  readonly cases = new Map<string, Case>();

  accept = async (request: IntakeRequest): Promise<Accepted> => {
    const idemKey = idemKeyOf(request);
    const existing = this.reports.find((r) => r.idemKey === idemKey);
    if (existing) return { trackingNo: existing.trackingNo, created: false, report: existing };
    const trackingNo = `20231115${String(this.reports.length + 1).padStart(6, '0')}` as TrackingNo;
    const report: StoredReport = { trackingNo, idemKey, request, acceptedAt: request.receivedAt };
    this.reports.push(report);
    return { trackingNo, created: true, report };
  };

  /** Newest first, as the citizen index reads; `after`: the reports that follow that one. */
  async listReportsOfCitizen(key: string, limit = 20, after?: ReportCursor): Promise<StoredReport[]> {
    const mine = this.reports.filter((r) => citizenKey(r.request.citizen) === key).reverse();
    const from = after ? mine.findIndex((r) => r.idemKey === after.idemKey) + 1 : 0;
    return mine.slice(from, from + limit);
  }

  async getCase(caseId: string): Promise<Case | undefined> {
    return this.cases.get(caseId);
  }
}

export function httpEvent(
  method: string,
  path: string,
  opts: { query?: Record<string, string>; body?: string | Buffer; headers?: Record<string, string> } = {},
): HttpEvent {
  const binary = Buffer.isBuffer(opts.body);
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: opts.headers ?? {},
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    requestContext: { http: { method, path } } as HttpEvent['requestContext'],
    isBase64Encoded: binary,
    ...(opts.body !== undefined
      ? { body: binary ? (opts.body as Buffer).toString('base64') : (opts.body as string) }
      : {}),
  };
}
