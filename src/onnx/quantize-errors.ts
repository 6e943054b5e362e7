import { BaseError, type BaseErrorParameters } from '../errors.js';

/** The float graph is valid ONNX but cannot be turned into the integer graph as it stands. */
export class QuantizeError extends BaseError {
  override name = 'QuantizeError';
  /** The float-graph op and node at fault, when one node is (set by the quantizer for every node error). */
  op: string | undefined;
  node: string | undefined;
  constructor(short: string, params: BaseErrorParameters & { op?: string; node?: string } = {}) {
    super(short, params);
    this.op = params.op;
    this.node = params.node;
  }
}

/** The calibration data does not fit the model (shape, dtype, count). */
export class CalibrationError extends BaseError {
  override name = 'CalibrationError';
  constructor(short: string, params: BaseErrorParameters = {}) {
    super(short, params);
  }
}
