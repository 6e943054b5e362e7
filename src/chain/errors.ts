/**
 * Errors of on-chain calls, decoded (viem style): a revert is a {@link ContractRevertError} whose message names the
 * contract's custom error and its arguments, e.g. `TaskMarket.claim reverted: MarketNotAgentOperator(0xab…, 3)`.
 * Errors raised by a nested call (DisputeGame inside TaskMarket.challenge, the token inside Staking.stake) are decoded
 * with the ABI of every protocol contract ({@link protocolErrorsAbi}).
 */
import {
  BaseError as ViemBaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Hex,
} from 'viem';
import { BaseError } from '../errors.js';
import { protocolErrorsAbi } from './abi.js';

/** Formats a decoded argument for a message: bigints in decimal, arrays and structs inline. */
export function formatArg(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(formatArg).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${formatArg(x)}`).join(', ')}}`;
  }
  return String(v);
}

export interface ContractRevertErrorParameters {
  /** Contract name, e.g. 'TaskMarket'. */
  contract: string;
  /** Function called. */
  method: string;
  /** Custom error name (`Error` for require-with-reason, `Panic` for a panic, `unknown` if undecodable). */
  errorName: string;
  /** Decoded error arguments. */
  args: readonly unknown[];
  /** Raw revert data, if any. */
  data?: Hex;
  cause?: unknown;
}

/** A contract call reverted; `errorName`/`args` are the decoded custom error. */
export class ContractRevertError extends BaseError {
  override name = 'ContractRevertError';
  readonly contract: string;
  readonly method: string;
  readonly errorName: string;
  readonly args: readonly unknown[];
  readonly data: Hex | undefined;

  constructor(p: ContractRevertErrorParameters) {
    super(`${p.contract}.${p.method} reverted: ${p.errorName}(${p.args.map(formatArg).join(', ')})`, {
      details: p.data ? `revert data ${p.data.length > 202 ? `${p.data.slice(0, 202)}…` : p.data}` : undefined,
      hint: p.errorName === 'unknown' ? 'The revert data matches no error of the protocol ABIs.' : undefined,
      cause: p.cause,
    });
    this.contract = p.contract;
    this.method = p.method;
    this.errorName = p.errorName;
    this.args = p.args;
    this.data = p.data;
  }
}

/** A transaction could not be sent or was mined but failed without revert data to decode. */
export class TransactionError extends BaseError {
  override name = 'TransactionError';
}

/** The receipt or logs of a successful transaction did not contain what the action expects. */
export class UnexpectedReceiptError extends BaseError {
  override name = 'UnexpectedReceiptError';
}

/** Every error an action may throw. */
export type ChainActionErrorType = ContractRevertError | TransactionError | UnexpectedReceiptError;

/**
 * Turns whatever a viem call threw into a {@link ContractRevertError} when it carries revert data (decoding it with
 * every protocol error if the called ABI lacks it), else a {@link TransactionError}.
 */
export function decodeContractError(err: unknown, ctx: { contract: string; method: string }): BaseError {
  if (err instanceof BaseError) return err;
  if (err instanceof ViemBaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError) as ContractFunctionRevertedError | null;
    if (reverted) {
      const raw = reverted.raw;
      if (reverted.data?.errorName) {
        return new ContractRevertError({ ...ctx, errorName: reverted.data.errorName, args: reverted.data.args ?? [], data: raw, cause: err });
      }
      if (raw && raw !== '0x') {
        try {
          const d = decodeErrorResult({ abi: protocolErrorsAbi, data: raw });
          return new ContractRevertError({ ...ctx, errorName: d.errorName, args: (d.args ?? []) as readonly unknown[], data: raw, cause: err });
        } catch {
          return new ContractRevertError({ ...ctx, errorName: 'unknown', args: [], data: raw, cause: err });
        }
      }
      if (reverted.reason) return new ContractRevertError({ ...ctx, errorName: 'Error', args: [reverted.reason], cause: err });
      return new ContractRevertError({ ...ctx, errorName: 'unknown', args: [], cause: err });
    }
    return new TransactionError(`${ctx.contract}.${ctx.method} failed: ${err.shortMessage}`, { details: err.details, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new TransactionError(`${ctx.contract}.${ctx.method} failed: ${message}`, { cause: err });
}
