/**
 * Errors of the commitment layer (docs/protocol.md §Commitments). All extend BaseError.
 *
 * - EncodingError: a tensor, trace, param or node cannot be encoded under the commitment layout
 *   (dtype and typed array disagree, a dimension does not fit in a uint32, an attr is not a safe
 *   integer, a name does not fit in a bytes32, ...).
 * - ProofError: a proof could not be built (index or range out of bounds) or is malformed
 *   (wrong word length, indices not strictly increasing, wrong number of siblings, ...).
 *   A well-formed proof that simply does not hash to the expected root is not an error: the
 *   verify* functions return false for it.
 */
import { BaseError, type BaseErrorParameters } from '../errors.js';

export class CommitError extends BaseError {
  override name = 'CommitError';
  constructor(shortMessage: string, params: BaseErrorParameters = {}) {
    super(shortMessage, params);
  }
}

export class EncodingError extends CommitError {
  override name = 'EncodingError';
}

export class ProofError extends CommitError {
  override name = 'ProofError';
}
