/** `verity` node commands: bad flags and input fail with a clear error naming what was wrong (no chain needed). */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'verity-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verity(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: { ...process.env, VERITY_KEY: '', VERITY_RPC: '', VERITY_DEPLOYMENT: '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

describe('verity node/task/deploy commands reject bad input clearly', () => {
  it('node run: unknown role', async () => {
    const r = await verity(['node', 'run', '--role', 'boss']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Unknown role "boss"/);
  });
  it('node run: bad key, bad fractions, missing deployment', async () => {
    expect((await verity(['node', 'run', '--role', 'worker', '--key', '0x12'])).stderr).toMatch(/--key must be a 32-byte hex private key/);
    expect((await verity(['node', 'run', '--role', 'verifier', '--sample', '1.5'])).stderr).toMatch(/--sample must be a fraction in \[0, 1\], got 1.5/);
    expect((await verity(['node', 'run', '--role', 'worker', '--dishonest', 'x'])).stderr).toMatch(/--dishonest must be a fraction/);
    expect((await verity(['node', 'run', '--role', 'worker', '--key', KEY])).stderr).toMatch(/Missing --deployment[\s\S]*VERITY_DEPLOYMENT/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect((await verity(['node', 'run', '--role', 'worker', '--key', KEY, '--deployment', bad])).stderr).toMatch(/deployment file is not valid JSON/);
  });
  it('node run / deploy: unreachable RPC names the URL', async () => {
    const dep = join(dir, 'dep.json');
    writeFileSync(dep, JSON.stringify({ chainId: 1, addresses: {}, models: {} }));
    const r = await verity(['node', 'run', '--role', 'worker', '--key', KEY, '--deployment', dep, '--rpc', 'http://127.0.0.1:9', '--data', join(dir, 'w')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot reach the RPC[\s\S]*127\.0\.0\.1:9/);
    expect((await verity(['deploy', '--rpc', 'http://127.0.0.1:9', '--key', KEY])).stderr).toMatch(/Cannot reach the RPC/);
  });
  it('task submit: malformed --input and fee', async () => {
    expect((await verity(['task', 'submit', '--api', 'http://127.0.0.1:9', '--model', 'wine-mlp', '--input', '[1,2'])).stderr).toMatch(/--input is not valid JSON/);
    expect((await verity(['task', 'submit', '--api', 'http://127.0.0.1:9', '--model', 'wine-mlp', '--input', '[1]', '--fee', 'lots'])).stderr).toMatch(/--fee must be a number of VRT, got "lots"/);
    expect((await verity(['task', 'show', 'q-1', '--api', 'http://127.0.0.1:9'])).stderr).toMatch(/Cannot reach the node API/);
  });
});
