/**
 * Errors are values with a machine-readable code that APIs return as `{ error: { code, message } }`.
 * `status` is the HTTP status a handler should answer with.
 */
export class CityLoopError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'CityLoopError';
  }

  toJSON(): { code: string; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const isCityLoopError = (e: unknown): e is CityLoopError => e instanceof CityLoopError;
