import { readFileSync } from 'node:fs';
import { join } from 'node:path';
const ROOT = '/work/main';
const model = process.argv[2] ?? 'tiny-gpt';
const { importOnnx, quantizeInput } = await import(ROOT + '/src/onnx/import.js');
const { prepareModel, runModel } = await import(ROOT + '/src/engine/run.js');
const data = JSON.parse(readFileSync(join(ROOT, 'models', `${model}.data.json`), 'utf8'));
let calibration = data.calibration;
if (!calibration) calibration = JSON.parse(readFileSync(join(ROOT, 'models', `${model}.calibration.json`), 'utf8')).calibration;
const q = importOnnx(readFileSync(join(ROOT, 'models', `${model}.onnx`)), { name: model, inputShape: data.shape, calibration });
const p = prepareModel(q);
const inputs = data.x.map((r: number[]) => quantizeInput(q, r));
// per-step timing
const per = new Map<string, number>();
const N = 300;
for (let it = 0; it < 50; it++) runModel(p, [inputs[it % inputs.length]]);
let t0 = performance.now();
for (let it = 0; it < N; it++) runModel(p, [inputs[it % inputs.length]]);
console.log('runModel ms', ((performance.now() - t0) / N).toFixed(4), 'nodes', q.nodes.length);
// manual per-node timing
const trace = runModel(p, [inputs[0]]);
for (const st of p.steps as any[]) {
  const ins = st.inputs.map((id: number) => trace[id]);
  const out = { dtype: st.dtype, shape: st.shape, data: trace[st.output].data.slice() };
  for (let i = 0; i < 20; i++) st.kernel(ins, out);
  const t = performance.now();
  for (let i = 0; i < N; i++) st.kernel(ins, out);
  const dt = (performance.now() - t) / N;
  const key = st.node.op;
  per.set(key, (per.get(key) ?? 0) + dt);
}
console.log([...per.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v.toFixed(4)} ms`).join('\n'));
const counts = new Map<string, number>();
for (const n of q.nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
console.log(JSON.stringify([...counts]));
for (const n of q.nodes.filter((n: any) => n.op === 'MatMul' || n.op === 'Linear').slice(0, 6)) console.log(n.op, n.name, n.inputs.map((i: number) => q.tensors[i].shape), q.tensors[n.output].shape, n.attrs.transB);
