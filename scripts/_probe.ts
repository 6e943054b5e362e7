import { quantized, modelData } from '../test/onnx/models.js';
import { LocalEngineProvider } from '../src/node/engine-provider.js';
import { quantizeInput } from '../src/onnx/import.js';
import { keccakReady } from '../src/commit/index.js';
await keccakReady;
const q = quantized('wine-mlp');
const A = new LocalEngineProvider([q]); const B = new LocalEngineProvider([q]); const L = new LocalEngineProvider([q], { dishonest: 1 });
const root = A.modelRoots()[0]!;
let bad = 0;
for (let r = 0; r < 40; r++) {
  const row = modelData('wine-mlp').x[r % 4]!;
  const a = A.execute(root, [quantizeInput(q, row)]);
  L.execute(root, [quantizeInput(q, row)]);
  const b = B.execute(root, [quantizeInput(q, row)]);
  if (a.traceRoot !== b.traceRoot) bad++;
}
console.log('mismatches', bad);
