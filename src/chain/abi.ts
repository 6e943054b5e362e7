/** ABIs shared by the chain actions: the union of every protocol contract's custom errors (for nested reverts). */
import type { Abi } from 'viem';

type AbiError = Extract<Abi[number], { type: 'error' }>;
import * as artifacts from './artifacts/index.js';

function collectErrors(): AbiError[] {
  const seen = new Map<string, AbiError>();
  for (const [key, value] of Object.entries(artifacts)) {
    if (!key.endsWith('Abi')) continue;
    for (const item of value as Abi) {
      if (item.type !== 'error') continue;
      const sig = `${item.name}(${item.inputs.map((i) => i.type).join(',')})`;
      if (!seen.has(sig)) seen.set(sig, item);
    }
  }
  return [...seen.values()];
}

/** Every custom error declared by a contract in src/chain/artifacts (deduplicated by signature). */
export const protocolErrorsAbi: readonly AbiError[] = collectErrors();
