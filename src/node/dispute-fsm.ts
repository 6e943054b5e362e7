/**
 * One state machine per tracked dispute, persisted in the store's disputes table, advanced one transition per
 * {@link DisputeMachine.step} so a role's loop can interleave many disputes and a restarted node resumes each from
 * its row:
 *
 *   playing ──(game resolved)──▶ decided ──(TaskMarket.resolve)──▶ settled ──(credits pulled)──▶ done
 *
 * While playing, each step reads the game: on this node's turn it makes exactly one move (DisputeClient's move for
 * its side and the phase), on the opponent's turn it calls timeout once the opponent's clock has run out, else
 * waits. Every transaction goes through the crash-safe sender under a key derived from the game state the move
 * answers (game id, phase, tensor, levels, position): a restarted node re-derives the same key and never sends the
 * same move twice.
 */
import { taskMarketAbi } from '../chain/artifacts/index.js';
import { TxFailedError } from '../chain/tx.js';
import { DisputeClient, moverOf, Outcome, Phase, winnerOf, type GameState, type StateProvider } from '../dispute/index.js';
import { failedWith, inc, sendCall, withdrawAll, type NodeContext } from './context.js';
import type { DisputeRow } from './store.js';

export type DisputeFsmState = 'playing' | 'decided' | 'settled' | 'done';

export function moveKey(gameId: string, g: GameState): string {
  return `game:${gameId}:p${g.phase}:t${g.tensorId}:l${g.levelsLeft}:pos${g.position}:pl${g.pendingLevels}${g.sumHi ? `:s${g.sumLo}-${g.sumHi}` : ''}`;
}

export class DisputeMachine {
  private readonly ctx: NodeContext;
  private readonly disputeId: string;
  private readonly provider: () => StateProvider;
  private readonly client: DisputeClient;
  private currentKey = '';
  private levels: number | undefined;

  constructor(ctx: NodeContext, disputeId: string, provider: () => StateProvider) {
    this.ctx = ctx;
    this.disputeId = disputeId;
    this.provider = provider;
    // The client's transactions go through the node's crash-safe sender under the current move's key
    // (`<move key>:<function>`, e.g. game:3:p1:…:a0:revealRoots).
    this.client = new DisputeClient({
      publicClient: ctx.publicClient,
      walletClient: ctx.walletClient,
      game: ctx.addresses.disputeGame,
      pollMs: 100,
      send: async (req) => {
        const sent = await ctx.sender.send(`${this.currentKey}:${req.label.split('.')[1] ?? req.label}`, req);
        inc(ctx, 'verity_node_transactions_total');
        return sent.hash;
      },
    });
  }

  row(): DisputeRow {
    return this.ctx.store.getDispute(this.disputeId)!;
  }

  /** Advances by at most one transition; returns the row after it. */
  async step(): Promise<DisputeRow> {
    const row = this.row();
    const store = this.ctx.store;
    const gameId = BigInt(row.gameId);
    this.currentKey = '';
    try {
      if (row.state === 'playing') {
        const g = await this.client.state(gameId);
        if (g.phase === Phase.Resolved) {
          store.updateDispute(this.disputeId, { state: 'decided', gamePhase: g.phase, outcome: g.outcome, error: null });
          this.ctx.log.info({ disputeId: row.disputeId, side: row.side, outcome: g.outcome }, 'dispute game decided');
          return this.row();
        }
        const claimantMoves = moverOf(g.phase) === 'claimant';
        const mover = claimantMoves ? g.claimant : g.challenger;
        const deadline = g.lastMoveAt + (claimantMoves ? g.claimantTimeLeft : g.challengerTimeLeft);
        store.updateDispute(this.disputeId, { gamePhase: g.phase, deadline: Number(deadline) });
        const mine = mover.toLowerCase() === this.ctx.account.toLowerCase();
        if (mine) {
          // A move that failed (reverted) is retried under the next attempt number, never under its burnt key.
          const base = moveKey(row.gameId, g);
          this.currentKey = `${base}:a${store.getKv(`attempts:${base}`) ?? '0'}`;
          const before = this.client.moves.length;
          this.levels ??= await this.client.levelsPerMove();
          await this.client.playMove(gameId, g, row.side, this.provider(), this.levels);
          const last = this.client.moves[this.client.moves.length - 1];
          if (this.client.moves.length > before && last) store.updateDispute(this.disputeId, { lastMoveTx: last.hash, error: null });
          inc(this.ctx, 'verity_node_dispute_moves_total');
        } else {
          const now = (await this.ctx.publicClient.getBlock()).timestamp;
          if (now > deadline) {
            this.currentKey = `game:${row.gameId}:timeout:${now}:p${g.phase}:pos${g.position}:t${g.tensorId}:l${g.levelsLeft}`;
            await this.client.timeout(gameId);
            this.ctx.log.info({ disputeId: row.disputeId }, 'opponent ran out of time: timeout called');
          }
        }
        return this.row();
      }
      if (row.state === 'decided') {
        this.currentKey = '';
        let hash: string | null = null;
        const d = await this.ctx.publicClient.readContract({ address: this.ctx.addresses.taskMarket, abi: taskMarketAbi, functionName: 'getDispute', args: [BigInt(row.disputeId)] });
        if (d.outcome === Outcome.Pending) try {
          const r = await sendCall(this.ctx, `resolve:${row.disputeId}`, this.ctx.calls.market.resolve([BigInt(row.disputeId)]));
          hash = r.transactionHash;
        } catch (e) {
          if (!failedWith(e, 'MarketDisputeAlreadyResolved')) throw e;
        }
        store.updateDispute(this.disputeId, { state: 'settled', resolveTx: hash, error: null });
        const won = winnerOf(row.outcome ?? 0) === row.side;
        inc(this.ctx, won ? 'verity_node_disputes_won_total' : 'verity_node_disputes_lost_total');
        return this.row();
      }
      if (row.state === 'settled') {
        await withdrawAll(this.ctx);
        store.updateDispute(this.disputeId, { state: 'done', error: null });
        return this.row();
      }
      return row;
    } catch (e) {
      if (e instanceof TxFailedError && this.currentKey) {
        const base = this.currentKey.replace(/:a\d+$/, '');
        store.setKv(`attempts:${base}`, String(Number(store.getKv(`attempts:${base}`) ?? '0') + 1));
      }
      const msg = (e as Error).message.split('\n')[0]!;
      store.updateDispute(this.disputeId, { error: msg });
      this.ctx.log.warn({ disputeId: row.disputeId, err: msg }, 'dispute step failed; will retry');
      return this.row();
    }
  }
}
