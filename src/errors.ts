/**
 * Every error the project throws on purpose extends BaseError (the viem pattern): a short message,
 * details that say what was wrong and where, and what to do about it. Anything else escaping a
 * public function is a bug.
 */
export interface BaseErrorParameters {
  /** What was wrong and where: node names, tensor names, byte offsets, values. */
  details?: string;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export class BaseError extends Error {
  override name = 'VerityError';
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly hint: string | undefined;

  constructor(shortMessage: string, params: BaseErrorParameters = {}) {
    const lines = [shortMessage];
    if (params.details) lines.push('', `Details: ${params.details}`);
    if (params.hint) lines.push(`Hint: ${params.hint}`);
    super(lines.join('\n'), params.cause === undefined ? undefined : { cause: params.cause });
    this.shortMessage = shortMessage;
    this.details = params.details;
    this.hint = params.hint;
  }
}

export function isVerityError(e: unknown): e is BaseError {
  return e instanceof BaseError;
}
