/**
 * Open311 errors: the spec answers every refusal with a list of `{ code, description }` (XML `<errors><error>`),
 * where `code` is the HTTP status. We keep our machine code at the start of each description
 * (`UNKNOWN_SERVICE: ...`) so a client's log says why, and one refusal may carry several problems at once
 * (a form missing both `service_code` and a location gets both back).
 * http://wiki.open311.org/GeoReport_v2/#errors
 */
import { CityLoopError } from '#core/errors.ts';

export interface Open311Problem {
  /** Our machine code, e.g. `MISSING_FIELD`. */
  code: string;
  description: string;
}

export interface Open311ErrorEntry {
  code: number;
  description: string;
}

/** One refusal with one or more problems; `status` is the HTTP status and the spec's `code`. */
export function open311Error(status: number, problems: Open311Problem[]): CityLoopError {
  const first = problems[0] ?? { code: 'BAD_REQUEST', description: 'bad request' };
  return new CityLoopError(first.code, first.description, status, { problems });
}

export const badRequest = (code: string, description: string): CityLoopError =>
  open311Error(400, [{ code, description }]);

/** The spec's error list for any CityLoopError (ours carry their problems; others become one entry). */
export function errorEntries(e: CityLoopError): Open311ErrorEntry[] {
  const details = e.details as
    | { problems?: Open311Problem[]; issues?: { path?: string; message?: string }[] }
    | undefined;
  let list: Open311Problem[] = [{ code: e.code, description: e.message }];
  if (Array.isArray(details?.problems) && details.problems.length > 0) list = details.problems;
  else if (Array.isArray(details?.issues) && details.issues.length > 0) {
    // normalizeIntake's VALIDATION_FAILED: one entry per field, so a client sees every problem at once.
    list = details.issues
      .slice(0, 20)
      .map((i) => ({ code: e.code, description: `${i.path || 'request'}: ${i.message ?? 'invalid'}` }));
  }
  return list.map((p) => ({ code: e.status, description: `${p.code}: ${p.description}` }));
}
