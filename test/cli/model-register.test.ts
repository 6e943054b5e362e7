/**
 * `verity deploy` then `verity model register` against a real anvil: the model's root lands in the
 * ModelRegistry and the deployment file gains the model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, http, type Hex } from 'viem';
import { startAnvil, type AnvilInstance, ANVIL_ACCOUNTS } from '../../src/chain/anvil.js';
import { modelRegistryAbi } from '../../src/chain/artifacts/index.js';
import type { DeploymentFile } from '../../src/cli/node.js';

const ROOT = join(import.meta.dirname, '..', '..');
let anvil: AnvilInstance;
let dir: string;

function verity(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  anvil = await startAnvil();
  dir = mkdtempSync(join(tmpdir(), 'verity-register-'));
});
afterAll(async () => {
  await anvil?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('verity model register', () => {
  it('registers a shipped model on a deployed protocol and records it in the deployment file', async () => {
    const key = ANVIL_ACCOUNTS[0].privateKey;
    const dep = join(dir, 'deployment.json');
    const d = await verity(['deploy', '--rpc', anvil.rpcUrl, '--key', key, '--out', dep, '--models', 'wine-mlp', '--json']);
    expect(d.code, d.stderr).toBe(0);
    const r = await verity(['model', 'register', 'digits-convnet', '--rpc', anvil.rpcUrl, '--key', key, '--deployment', dep, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; id: string; root: Hex };
    const file = JSON.parse(readFileSync(dep, 'utf8')) as DeploymentFile;
    expect(file.models['digits-convnet']).toEqual({ id: out.id, root: out.root });
    expect(file.models['wine-mlp']).toBeDefined();
    const client = createPublicClient({ transport: http(anvil.rpcUrl) });
    const onChain = await client.readContract({ address: file.addresses.modelRegistry, abi: modelRegistryAbi, functionName: 'modelRoot', args: [BigInt(out.id)] });
    expect(onChain).toBe(out.root);
  });

  it('names what is wrong with an unknown model', async () => {
    const r = await verity(['model', 'register', 'no-such-model', '--rpc', anvil.rpcUrl, '--key', ANVIL_ACCOUNTS[0].privateKey, '--deployment', join(dir, 'deployment.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-such-model/);
  });
});
