/** A local honest run of `model` on `inputs`: what every verified result the agents hand back must equal. */
import type { Hex } from 'viem';
import { modelRootHex, outputHashOf, traceRootHex } from '../../src/commit/index.js';
import type { QModel, TensorData } from '../../src/engine/ir.js';
import { outputsOf, runModel } from '../../src/engine/run.js';
import { LocalEngineProvider } from '../../src/node/engine-provider.js';

export function localRun(model: QModel, inputs: readonly TensorData[]): { outputs: TensorData[]; outputHash: Hex; traceRoot: Hex } {
  const { prepared } = new LocalEngineProvider([model]).loadModel(modelRootHex(model));
  const trace = runModel(prepared, inputs);
  const outputs = outputsOf(prepared, trace);
  return { outputs, outputHash: outputHashOf(outputs), traceRoot: traceRootHex(trace) };
}
