import { BaseError, type BaseErrorParameters } from '../errors.js';

/** The float graph is valid ONNX but cannot be turned into the integer graph as it stands. */
export class QuantizeError extends BaseError {
  override name = 'QuantizeError';
  constructor(short: string, params: BaseErrorParameters = {}) {
    super(short, params);
  }
}

/** The calibration data does not fit the model (shape, dtype, count). */
export class CalibrationError extends BaseError {
  override name = 'CalibrationError';
  constructor(short: string, params: BaseErrorParameters = {}) {
    super(short, params);
  }
}
