/**
 * Gas per generated character of the dialogue demo (src/agents/dialogue.ts) on a local network of real nodes
 * (LocalNetwork: anvil, the protocol, a requester node and a worker node): every message is one batch task — postBatchTask (the element input commitments),
 * claim, commitBatch (one positional root over resultLeaf(i, outputHash)), finalize. Gas per character
 * = the sum of those four transactions over all messages / generated characters; one-time setup (agent
 * registration, stake, model registration, fee approval) is excluded and listed separately.
 *
 *   npx tsx bench/gas-dialogue.ts   → prints a table, writes bench/results/gas-dialogue.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDialogue } from '../src/agents/dialogue.js';
import { LocalNetwork } from '../src/agents/local-network.js';
import { loadTinyGpt } from '../src/agents/generate.js';
import { keccakReady } from '../src/commit/index.js';

const CONFIGS = [
  { turns: 4, chars: 24, note: 'the CLI demo (verity agents dialogue --turns 4 --chars 24 --chain)' },
  { turns: 4, chars: 64, note: '' },
  { turns: 2, chars: 256, note: '' },
];

await keccakReady;
const gpt = loadTinyGpt();
const rows: Record<string, unknown>[] = [];
for (const c of CONFIGS) {
  const network = await LocalNetwork.start({ models: ['tiny-gpt'] });
  try {
    // Warm-up message: the first task on a fresh market pays one-time storage (task counter, first claimable…).
    await runDialogue({ turns: 1, chars: 2, network, gpt });
    const r = await runDialogue({ turns: c.turns, chars: c.chars, network, gpt });
    const steps: Record<string, bigint> = {};
    for (const m of r.messages) for (const t of m.chain!.txs) steps[t.step] = (steps[t.step] ?? 0n) + BigInt(t.gasUsed);
    const chars = c.turns * c.chars;
    rows.push({
      turns: c.turns,
      charsPerMessage: c.chars,
      generatedChars: chars,
      totalGas: Number(r.gas!.total),
      gasPerChar: Math.round(r.gas!.perChar),
      gasPerMessage: Math.round(Number(r.gas!.total) / c.turns),
      perStepPerMessage: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, Math.round(Number(v) / c.turns)])),
      ...(c.note ? { note: c.note } : {}),
    });
  } finally {
    await network.close();
  }
}

console.log('\nDialogue on-chain cost (each message = one batch task: post + claim + commitBatch + finalize)\n');
console.log('turns  chars/msg  chars  gas/message  gas/char   post / claim / commit / finalize per message');
for (const r of rows) {
  const s = r.perStepPerMessage as Record<string, number>;
  console.log(
    `${String(r.turns).padEnd(6)} ${String(r.charsPerMessage).padEnd(10)} ${String(r.generatedChars).padEnd(6)} ${String(r.gasPerMessage).padEnd(12)} ${String(r.gasPerChar).padEnd(10)} ${s.post} / ${s.claim} / ${s.commit} / ${s.finalize}`,
  );
}
const out = join(import.meta.dirname, 'results', 'gas-dialogue.json');
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ generatedBy: 'bench/gas-dialogue.ts', model: 'tiny-gpt', modelRoot: gpt.modelRoot, excluded: 'one-time setup: registerAgent, stake, registerModel, fee approval; the first task on a fresh market (warm-up)', rows }, null, 2)}\n`,
);
console.log(`\nwrote ${out}`);
