/**
 * What Verity's moves cost on an OP-stack L2 (Ecotone fee rules), from the measured gas in bench/results/gas*.json:
 *
 *   fee = L2 execution gas × (L2 base fee + priority fee)  +  L1 data fee
 *   L1 data fee (Ecotone) = l1Gas × (16 · baseFeeScalar · l1BaseFee + blobBaseFeeScalar · l1BlobBaseFee) / (16 · 10⁶)
 *   l1Gas = 4 · (zero bytes) + 16 · (non-zero bytes) of the signed transaction
 *
 * The signed transaction is the ABI-encoded calldata (encoded here with the contracts' ABIs and the wine-mlp shapes,
 * random bytes for hashes: incompressible, so conservative) plus a 110-byte envelope (nonce, gas fields, to, value,
 * signature), counted as non-zero. Fjord's FastLZ-based size is ≤ this for such payloads, so the L1 fee is an upper
 * bound there. Prices are stated, not fetched: two scenarios, Base's published scalars.
 *
 * `npm run bench:cost` prints the table and writes bench/results/cost-l2.json.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, encodeFunctionData, type Hex } from 'viem';
import { buildRegistration, registrationDataUri } from '../src/agents/registration.js';
import { disputeGameAbi, identityRegistryAbi, stakingAbi, taskMarketAbi } from '../src/chain/artifacts/index.js';

const root = join(import.meta.dirname, '..');
const gas = JSON.parse(readFileSync(join(root, 'bench/results/gas.json'), 'utf8')) as {
  rows: { action: string; gas: number }[];
  disputes: { model: string; moves: { action: string; gas: number }[] }[];
  verifierPerOp: { model: string; op: string; calldataBytes: number }[];
};
const rowGas = (prefix: string): number => {
  const r = gas.rows.find((x) => x.action.startsWith(prefix));
  if (!r) throw new Error(`bench/results/gas.json has no row "${prefix}…"`);
  return r.gas;
};

const h = (): Hex => bytesToHex(randomBytes(32));
const hs = (n: number): Hex[] => Array.from({ length: n }, h);
const data = (n: number): Hex => bytesToHex(randomBytes(n));
const tensor = (shape: number[]) => ({ dtype: 1, shape, data: data(shape.reduce((a, b) => a * b, 1)) });
const ENVELOPE = 110;

/** Calldata of each move, encoded with the real ABIs (wine-mlp: input i8[1,13], output i8[1,3]). */
const calldata = {
  register: encodeFunctionData({
    abi: identityRegistryAbi,
    functionName: 'register',
    args: [
      registrationDataUri(
        buildRegistration({
          name: 'verity-worker',
          description: 'Verity worker node (verified integer inference)',
          services: [{ name: 'web', endpoint: 'https://worker-1.verity.example' }, { name: 'verity-node', endpoint: 'https://worker-1.verity.example', version: '1' }],
          supportedTrust: ['reputation', 'crypto-economic'],
        }),
      ),
    ],
  }),
  stake: encodeFunctionData({ abi: stakingAbi, functionName: 'stake', args: [1000n * 10n ** 18n] }),
  postTask: encodeFunctionData({ abi: taskMarketAbi, functionName: 'postTask', args: [1n, [tensor([1, 13])], 10n ** 18n, 1_800_000_000n] }),
  postBatchTask: encodeFunctionData({ abi: taskMarketAbi, functionName: 'postBatchTask', args: [1n, h(), 100, 100n * 10n ** 18n, 1_800_000_000n] }),
  claim: encodeFunctionData({ abi: taskMarketAbi, functionName: 'claim', args: [123n, 7n] }),
  commit: encodeFunctionData({ abi: taskMarketAbi, functionName: 'commit', args: [123n, [tensor([1, 3])]] }),
  commitBatch: encodeFunctionData({ abi: taskMarketAbi, functionName: 'commitBatch', args: [123n, h()] }),
  finalize: encodeFunctionData({ abi: taskMarketAbi, functionName: 'finalize', args: [123n] }),
  challenge: encodeFunctionData({ abi: taskMarketAbi, functionName: 'challenge', args: [123n, 0, h(), hs(7), h(), hs(7)] }),
  revealRoots: encodeFunctionData({ abi: disputeGameAbi, functionName: 'revealRoots', args: [5n, hs(6), 1, 1] }),
  disputeTensor: encodeFunctionData({ abi: disputeGameAbi, functionName: 'disputeTensor', args: [5n, 3n, h(), hs(3), { index: 2n, count: 3n, header: data(96), paramRoots: hs(2), siblings: hs(2) }] }),
  revealTensor: encodeFunctionData({ abi: disputeGameAbi, functionName: 'revealTensor', args: [5n, 1, [1, 3], h(), hs(2)] }),
  resolve: encodeFunctionData({ abi: taskMarketAbi, functionName: 'resolve', args: [5n] }),
};
// The one-step move's calldata is measured by bench/gas.ts (verifierPerOp.calldataBytes).
const oneStepBytes = (model: string) => gas.verifierPerOp.find((v) => v.model === model)?.calldataBytes ?? 4772;

/** Ecotone l1Gas of a transaction carrying `hex` calldata (or `n` incompressible bytes). */
function l1Gas(hex: Hex | number): number {
  if (typeof hex === 'number') return 16 * (hex + ENVELOPE);
  const b = Buffer.from(hex.slice(2), 'hex');
  let g = 16 * ENVELOPE;
  for (const x of b) g += x === 0 ? 4 : 16;
  return g;
}

interface Prices {
  name: string;
  l2BaseFeeGwei: number;
  l2PriorityGwei: number;
  l1BaseFeeGwei: number;
  l1BlobBaseFeeGwei: number;
  baseFeeScalar: number;
  blobBaseFeeScalar: number;
  ethUsd: number;
}
const SCENARIOS: Prices[] = [
  { name: 'quiet', l2BaseFeeGwei: 0.005, l2PriorityGwei: 0.001, l1BaseFeeGwei: 2, l1BlobBaseFeeGwei: 0.001, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, ethUsd: 3000 },
  { name: 'busy', l2BaseFeeGwei: 0.05, l2PriorityGwei: 0.01, l1BaseFeeGwei: 30, l1BlobBaseFeeGwei: 10, baseFeeScalar: 2269, blobBaseFeeScalar: 1_055_762, ethUsd: 3000 },
];

/** Fee in wei of one transaction with `execGas` L2 gas and `l1` Ecotone l1Gas. */
function fee(p: Prices, execGas: number, l1: number): { l2Wei: number; l1Wei: number } {
  const gwei = 1e9;
  const l2Wei = execGas * (p.l2BaseFeeGwei + p.l2PriorityGwei) * gwei;
  const l1Wei = (l1 * (16 * p.baseFeeScalar * p.l1BaseFeeGwei * gwei + p.blobBaseFeeScalar * p.l1BlobBaseFeeGwei * gwei)) / (16 * 1e6);
  return { l2Wei, l1Wei };
}

interface Item {
  what: string;
  txs: { step: string; gas: number; l1Gas: number }[];
  /** Divide by this (per inference in a batch). */
  per?: number;
}

const wineDispute = gas.disputes.find((d) => d.model === 'wine-mlp')!;
const disputeSteps = wineDispute.moves.map((m) => {
  const name = m.action.split(' ')[0]!;
  const l1 = name === 'open' ? l1Gas(calldata.challenge) : name === 'oneStep' ? l1Gas(oneStepBytes('wine-mlp')) : l1Gas((calldata as Record<string, Hex>)[name] ?? calldata.resolve);
  return { step: name, gas: m.gas, l1Gas: l1 };
});

const items: Item[] = [
  {
    what: 'verified inference, single (wine-mlp: post, claim, commit, finalize)',
    txs: [
      { step: 'postTask', gas: rowGas('postTask (wine-mlp'), l1Gas: l1Gas(calldata.postTask) },
      { step: 'claim', gas: rowGas('claim'), l1Gas: l1Gas(calldata.claim) },
      { step: 'commit', gas: rowGas('commit one result'), l1Gas: l1Gas(calldata.commit) },
      { step: 'finalize', gas: rowGas('finalize'), l1Gas: l1Gas(calldata.finalize) },
    ],
  },
  {
    what: 'verified inference, batched (per element of a 100-element batch)',
    per: 100,
    txs: [
      { step: 'postBatchTask', gas: rowGas('postBatchTask'), l1Gas: l1Gas(calldata.postBatchTask) },
      { step: 'claim', gas: rowGas('claim'), l1Gas: l1Gas(calldata.claim) },
      { step: 'commitBatch', gas: rowGas('commitBatch of 100 (whole tx)'), l1Gas: l1Gas(calldata.commitBatch) },
      { step: 'finalize', gas: rowGas('finalize'), l1Gas: l1Gas(calldata.finalize) },
    ],
  },
  { what: 'dispute (wine-mlp, whole game: open … oneStep, resolve → slash)', txs: disputeSteps },
  {
    what: 'agent registration (register with an on-chain registration file, stake)',
    txs: [
      { step: 'register', gas: rowGas('registerAgent'), l1Gas: l1Gas(calldata.register) },
      { step: 'stake', gas: rowGas('stake'), l1Gas: l1Gas(calldata.stake) },
    ],
  },
];

const out = SCENARIOS.map((p) => ({
  prices: p,
  rows: items.map((it) => {
    const per = it.per ?? 1;
    let l2 = 0;
    let l1 = 0;
    for (const t of it.txs) {
      const f = fee(p, t.gas, t.l1Gas);
      l2 += f.l2Wei;
      l1 += f.l1Wei;
    }
    const execGas = it.txs.reduce((a, t) => a + t.gas, 0) / per;
    const l1GasSum = it.txs.reduce((a, t) => a + t.l1Gas, 0) / per;
    const totalWei = (l2 + l1) / per;
    return { what: it.what, execGas: Math.round(execGas), l1Gas: Math.round(l1GasSum), l2FeeWei: Math.round(l2 / per), l1FeeWei: Math.round(l1 / per), totalWei: Math.round(totalWei), usd: (totalWei / 1e18) * p.ethUsd, txs: it.txs };
  }),
}));

for (const s of out) {
  const p = s.prices;
  console.log(`\n${p.name}: L2 ${p.l2BaseFeeGwei}+${p.l2PriorityGwei} gwei, L1 base ${p.l1BaseFeeGwei} gwei, blob ${p.l1BlobBaseFeeGwei} gwei, scalars ${p.baseFeeScalar}/${p.blobBaseFeeScalar}, ETH $${p.ethUsd}`);
  console.table(s.rows.map((r) => ({ what: r.what, 'L2 gas': r.execGas, 'L1 gas': r.l1Gas, 'L2 fee (gwei)': +(r.l2FeeWei / 1e9).toFixed(2), 'L1 fee (gwei)': +(r.l1FeeWei / 1e9).toFixed(2), 'USD': +r.usd.toFixed(5) })));
}
writeFileSync(
  join(root, 'bench/results/cost-l2.json'),
  `${JSON.stringify({ generatedBy: 'bench/cost-l2.ts', formula: 'L2 gas × (base + priority) + Ecotone L1 data fee over the signed tx (calldata + 110 B envelope)', from: ['bench/results/gas.json'], scenarios: out }, null, 2)}\n`,
);
