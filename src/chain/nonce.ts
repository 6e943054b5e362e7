/**
 * Nonce management for transactions sent by the actions: one counter per (chain, account), incremented locally
 * (and never behind the node's `pending` count), so several transactions can be sent back to back without waiting
 * for the node to see the previous ones. Allocation is serialized per account. A send that fails before reaching
 * the node must call {@link NonceManager.reset} (the actions do) so the next one re-reads the count.
 */
import type { Address, PublicClient } from 'viem';

export class NonceManager {
  private readonly next = new Map<string, number>();
  private readonly lock = new Map<string, Promise<unknown>>();

  /** The next nonce of `address`, reserved for the caller. */
  async consume(publicClient: PublicClient, address: Address): Promise<number> {
    const key = `${publicClient.chain?.id ?? 0}:${address.toLowerCase()}`;
    const prev = this.lock.get(key) ?? Promise.resolve();
    const run = prev.then(async () => {
      // max(local, node): back-to-back sends use the local counter; sends made by other code from the same account
      // (a DisputeClient, a wallet) are picked up from the node's pending count.
      const pending = await publicClient.getTransactionCount({ address, blockTag: 'pending' });
      const n = Math.max(this.next.get(key) ?? 0, pending);
      this.next.set(key, n + 1);
      return n;
    });
    this.lock.set(key, run.catch(() => undefined));
    return run;
  }

  /** Forgets the counter of `address` (next consume re-reads it from the node). */
  reset(publicClient: PublicClient, address: Address): void {
    this.next.delete(`${publicClient.chain?.id ?? 0}:${address.toLowerCase()}`);
  }
}

/** The process-wide default nonce manager. */
export const defaultNonceManager = new NonceManager();
