/**
 * A local anvil node for tests and benchmarks: spawns the @foundry-rs/anvil binary on 127.0.0.1 at
 * a free port, waits until it answers eth_chainId, and kills exactly that process on stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { bytesToHex, type Address, type Hex } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import { BaseError } from '../errors.js';

export class AnvilError extends BaseError {
  override name = 'AnvilError';
}

/** anvil's default, publicly known test mnemonic (never for real funds). */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/** Account `i` of {@link ANVIL_MNEMONIC} (anvil funds 0..9 with 10,000 ETH). */
export function anvilAccount(i: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i });
}

/** Address and private key of anvil account `i` (for a node's --key). */
export function anvilKey(i: number): { address: Address; privateKey: Hex } {
  const a = anvilAccount(i);
  return { address: a.address, privateKey: bytesToHex(a.getHdKey().privateKey!) };
}

/** anvil's first default-mnemonic account (test only; publicly known key). */
export const ANVIL_ACCOUNTS: readonly { address: Address; privateKey: Hex }[] = [
  { address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', privateKey: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' },
];

export interface AnvilInstance {
  rpcUrl: string;
  port: number;
  accounts: readonly { address: Address; privateKey: Hex }[];
  stop(): Promise<void>;
}

/** Path of the anvil binary shipped by @foundry-rs/anvil-linux-amd64 (or $ANVIL_BIN). */
export function anvilBinary(): string {
  if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
  const req = createRequire(import.meta.url);
  const candidates: string[] = [];
  try {
    candidates.push(join(dirname(req.resolve('@foundry-rs/anvil-linux-amd64/package.json')), 'bin', 'anvil'));
  } catch {
    /* not resolvable: fall back to the repo layout */
  }
  candidates.push(join(process.cwd(), 'node_modules', '@foundry-rs', 'anvil-linux-amd64', 'bin', 'anvil'));
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new AnvilError('anvil binary not found.', { details: `looked in ${candidates.join(', ')}`, hint: 'Set ANVIL_BIN.' });
  return found;
}

async function ready(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    });
    return r.ok;
  } catch {
    return false;
  }
}

/** Starts anvil (extra CLI args appended, e.g. ['--code-size-limit', '100000']). */
export async function startAnvil(opts: { args?: string[]; timeoutMs?: number } = {}): Promise<AnvilInstance> {
  // anvil binds port 0 itself and prints the port it got: probing for a free port first and
  // handing it over would race with other test files doing the same, and a second anvil that
  // fails to bind would then talk to the first one's chain through the readiness check.
  const child: ChildProcess = spawn(
    anvilBinary(),
    ['--host', '127.0.0.1', '--port', '0', '--gas-limit', '1000000000', ...(opts.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let port = 0;
  let banner = '';
  child.stdout?.on('data', (d: Buffer) => {
    // Drained for the life of the process (anvil logs every call); only the banner is kept.
    if (port) return;
    banner += d.toString();
    const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(banner);
    if (m) {
      port = Number(m[1]);
      banner = '';
    } else if (banner.length > 1 << 20) banner = banner.slice(-4096);
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    if (exited || child.pid === undefined) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 2000).unref();
    });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (!port || !(await ready(`http://127.0.0.1:${port}`))) {
    if (exited) throw new AnvilError('anvil exited before it was ready.', { details: stderr.slice(0, 2000) });
    if (Date.now() > deadline) {
      await stop();
      throw new AnvilError('anvil did not become ready in time.', { details: `port ${port || 'not yet printed'}; ${stderr.slice(0, 2000)}` });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const rpcUrl = `http://127.0.0.1:${port}`;
  return { rpcUrl, port, accounts: ANVIL_ACCOUNTS.slice(0, 1), stop };
}
