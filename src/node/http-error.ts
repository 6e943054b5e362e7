/**
 * The one error type of the node's HTTP API: a status, a machine-readable code and a message. Every route throws it;
 * the API's error handler (src/node/api.ts) answers `{ error: code, message, details? }` with that status, whatever
 * the status (a 502 is a 502, not a 500).
 */
import { BaseError } from '../errors.js';

export class HttpError extends BaseError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    details?: string,
  ) {
    super(message, details === undefined ? {} : { details });
  }

  /** The JSON body the API answers with. */
  body(): { error: string; message: string; details?: string } {
    return { error: this.code, message: this.shortMessage, ...(this.details ? { details: this.details } : {}) };
  }
}
