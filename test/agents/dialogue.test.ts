/**
 * The dialogue demo: from the CLI (`verity agents dialogue --chain --json`), and in-process on a local network of
 * nodes (LocalNetwork: a requester node and a worker node on anvil) where the market's stored roots are checked
 * against the locally generated batches.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDialogue, TURN_SEPARATOR, type DialogueResult } from '../../src/agents/dialogue.js';
import { LocalNetwork } from '../../src/agents/local-network.js';
import { generate, loadTinyGpt } from '../../src/agents/generate.js';
import { taskMarketAbi } from '../../src/chain/artifacts/index.js';
import { keccakReady } from '../../src/commit/index.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Runs the CLI (bounded by a timeout; the child is killed by its own pid on expiry). */
function cli(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let network: LocalNetwork;

beforeAll(async () => {
  await keccakReady;
  network = await LocalNetwork.start({ models: ['tiny-gpt'], challengeWindow: 3n });
});

afterAll(async () => {
  await network?.close();
});

describe('verity agents dialogue (CLI)', () => {
  it('runs on a local network of nodes and prints every message with its batch root, finalized, and gas per character', async () => {
    const r = await cli(['agents', 'dialogue', '--turns', '2', '--chars', '8', '--chain', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as DialogueResult;
    expect(d.messages).toHaveLength(2);
    expect(d.messages.map((m) => m.speaker)).toEqual(['alice', 'bob']);
    const gpt = loadTinyGpt();
    for (const m of d.messages) {
      expect([...m.text]).toHaveLength(8);
      expect(m.chain!.status).toBe('finalized');
      expect(m.chain!.resultRoot).toBe(m.batchRoot);
      expect(generate(gpt, m.prompt, 8).batchRoot).toBe(m.batchRoot); // anyone can re-derive it
    }
    expect(d.gas!.perChar).toBeGreaterThan(0);
    console.log(`CLI dialogue: ${d.messages.map((m) => JSON.stringify(m.text)).join(' / ')}; ${d.gas!.perChar.toFixed(0)} gas/char at 8 chars/message`);
  });

  it('rejects a bad --chars with a clear error', async () => {
    const r = await cli(['agents', 'dialogue', '--chars', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--chars must be an integer in 1\.\.256/);
  });
});

describe('dialogue on a local network of nodes', () => {
  it('each message is one finalized batch task whose stored roots are the local generation roots', async () => {
    const seen: string[] = [];
    const d = await runDialogue({ turns: 4, chars: 24, network, onMessage: (m) => seen.push(m.text) });
    expect(seen).toEqual(d.messages.map((m) => m.text));
    let transcript = d.opening;
    for (const m of d.messages) {
      expect(m.prompt).toBe(`${transcript}${TURN_SEPARATOR}`);
      transcript = `${m.prompt}${m.text}`;
      const t = await network.chain.publicClient.readContract({ address: network.chain.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getTask', args: [BigInt(m.chain!.taskId)] });
      expect(t.status).toBe(4); // Finalized
      expect(t.itemCount).toBe(24);
      expect(t.resultRoot).toBe(m.batchRoot);
      expect(t.inputRoot).toBe(m.inputsRoot);
      expect(m.outputHashes).toHaveLength(24);
    }
    // deterministic: the same dialogue again gives the same texts and batch roots
    const again = await runDialogue({ turns: 4, chars: 24 });
    expect(again.messages.map((m) => [m.text, m.batchRoot])).toEqual(d.messages.map((m) => [m.text, m.batchRoot]));
    console.log(`dialogue 4×24 on chain: ${d.gas!.perChar.toFixed(0)} gas/char (${d.gas!.perMessage.join(', ')} gas per message)`);
    console.log(d.messages.map((m) => `  ${m.speaker}: ${JSON.stringify(m.text)} ${m.batchRoot}`).join('\n'));
  });
});
