/**
 * The node's own reorg detector for what it SENT, independent of its log followers: a follower that trails the head
 * (a range-capped or rate-limited RPC) can have its checkpoint below a reorg that replaced blocks holding our
 * transactions, so it never sees a changed hash there, while TxSender still holds those transactions as confirmed.
 * Each tick the node remembers the head it saw (number → hash, the last `depth` of them); when a remembered block's
 * hash is no longer the chain's, every block above the newest still-matching one was replaced.
 */
import type { Hex, PublicClient } from 'viem';

export class HeadWatch {
  private heads: { n: bigint; h: Hex }[] = [];

  constructor(
    private readonly client: Pick<PublicClient, 'getBlock'>,
    private readonly depth = 64,
  ) {}

  /**
   * Reads the head; returns the lowest block a reorg replaced since the last call (undefined: none seen).
   * Bounded: at most `depth` block reads, and one when nothing changed.
   */
  async check(): Promise<bigint | undefined> {
    const head = await this.client.getBlock({ blockTag: 'latest' });
    if (head.number === null || head.hash === null) return undefined;
    let from: bigint | undefined;
    // INVARIANT: every remembered head is still on the chain; walk down to the newest one that is.
    while (this.heads.length > 0) {
      const last = this.heads[this.heads.length - 1]!;
      const now = last.n === head.number ? head.hash : last.n > head.number ? null : (await this.client.getBlock({ blockNumber: last.n })).hash;
      if (now === last.h) break;
      from = last.n; // `last` was replaced (or is above the new head)
      this.heads.pop();
    }
    // Blocks between the newest head still on the chain and the lowest replaced one were never seen: replaced too.
    const kept = this.heads[this.heads.length - 1];
    if (from !== undefined && kept) from = kept.n + 1n;
    const top = this.heads[this.heads.length - 1];
    if (!top || top.n < head.number) this.heads.push({ n: head.number, h: head.hash });
    if (this.heads.length > this.depth) this.heads.shift();
    return from;
  }
}
