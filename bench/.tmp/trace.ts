import { createPublicClient, createWalletClient, http, decodeAbiParameters, encodeFunctionData, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { keccakReady } from '../../src/commit/index.js';
import { prepareModel, runModel } from '../../src/engine/run.js';
import { quantizeInput } from '../../src/onnx/import.js';
import { startAnvil } from '../../src/chain/anvil.js';
import { deployOneStepVerifier } from '../../src/verifier/deploy.js';
import { denseOpsAbi } from '../../src/chain/artifacts/index.js';
import { buildOneStep } from '../../src/verifier/index.js';
import { modelData, quantized } from '../../test/onnx/models.js';
async function main() {
await keccakReady;
const anvil = await startAnvil();
try {
  const account = privateKeyToAccount(anvil.accounts[0].privateKey);
  const client = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl) }) as PublicClient;
  const wallet = createWalletClient({ account, chain: foundry, transport: http(anvil.rpcUrl) });
  const { dense } = await deployOneStepVerifier(wallet, client);
  const model = quantized('tiny-gpt');
  const trace = runModel(prepareModel(model), [quantizeInput(model, modelData('tiny-gpt').x[0])]);
  const w = buildOneStep(model, trace, 25, 0);
  const computeAbi = denseOpsAbi.find((e: any) => e.name === 'compute') as any;
  const [h] = decodeAbiParameters([computeAbi.inputs[0]], w.step.node.header);
  const data = encodeFunctionData({ abi: denseOpsAbi, functionName: 'compute', args: [h as any, w.step.inputs, w.step.params, w.step.outputIndex] });
  const resp = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'debug_traceCall', params: [{ to: dense, data, from: account.address, gas: '0x1000000' }, 'latest', { disableStorage: true, disableStack: true, enableMemory: false }] }) });
  const r: any = (await resp.json()).result;
  const logs = r.structLogs as any[];
  console.log('gas', r.gas, 'steps', logs.length);
  const byOp = new Map<string, [number, number]>();
  const byPc = new Map<number, number>();
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i];
    const c = l.gasCost;
    const e = byOp.get(l.op) ?? [0, 0]; e[0]++; e[1] += c; byOp.set(l.op, e);
    byPc.set(l.pc, (byPc.get(l.pc) ?? 0) + c);
  }
  console.log([...byOp].sort((a, b) => b[1][1] - a[1][1]).slice(0, 25).map(([k, v]) => `${k} ${v[0]} ${v[1]}`).join('\n'));
  const mem = logs.filter(l => l.op === 'MSTORE' || l.op==='MLOAD');
  console.log('memSize last', logs[logs.length-1].memSize);
  // hottest pcs
  console.log([...byPc].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([k, v]) => `${k}:${v}`).join(' '));
} finally { await anvil.stop(); }
}
main();
