/**
 * Error codes of the lifecycle, with the HTTP status an API answers with.
 * NOT_YOUR_CASE is 404 on purpose: a department guessing ids must not learn that another department's case exists.
 */
import { CityLoopError } from '#core/errors.ts';

export const LIFECYCLE_ERRORS = {
  /** The action body does not have the shape of any action (unknown type, wrong field types, too long). */
  INVALID_ACTION: 400,
  INVALID_ACTOR: 400,
  /** `now` is not an ISO 8601 instant with an offset. */
  INVALID_TIME: 400,
  /** The snapshot handed to the machine is not a case. */
  INVALID_SNAPSHOT: 500,
  FORBIDDEN_ROLE: 403,
  NOT_YOUR_CASE: 404,
  ILLEGAL_TRANSITION: 409,
  /** Another request (return or extension) is already waiting for the supervisor. */
  PENDING_REQUEST: 409,
  NO_PENDING_REQUEST: 409,
  REASON_REQUIRED: 400,
  TEXT_REQUIRED: 400,
  DEPARTMENT_REQUIRED: 400,
  CATEGORY_REQUIRED: 400,
  DUE_DATE_REQUIRED: 400,
  FOLLOW_UP_RESULT_REQUIRED: 400,
  SAME_DEPARTMENT: 422,
  NOT_A_CONSULTATION: 422,
  RETURN_WINDOW_CLOSED: 422,
  /** Extension asked at or after the due time. */
  EXTENSION_TOO_LATE: 422,
  /** Requested date beyond the maximum extension. */
  EXTENSION_TOO_LONG: 422,
  /** Requested date not after the current due time (or not in the future). */
  INVALID_DUE_DATE: 422,
} as const;
export type LifecycleErrorCode = keyof typeof LIFECYCLE_ERRORS;

export const lifecycleError = (code: LifecycleErrorCode, message: string, details?: unknown): CityLoopError =>
  new CityLoopError(code, message, LIFECYCLE_ERRORS[code], details);
