/** What the three roles share: the Role interface and stepping the tracked disputes. */
import { traceFor } from '../traces.js';
import { DisputeMachine } from '../dispute-fsm.js';
import type { NodeContext } from '../context.js';
import type { DisputeRow, NodeStore } from '../store.js';
import type { Hex } from 'viem';
import { winnerOf } from '../../dispute/moves.js';
import { tensorFromArg } from '../context.js';
import { tensorToJson, type TensorJson } from '../engine-provider.js';

import type { RoleName } from '../role-name.js';
export type { RoleName };

/** A node role: one-time setup, then `tick` (one bounded pass of work) called by the node's loop. */
export interface Role {
  readonly name: RoleName;
  setup(): Promise<void>;
  tick(): Promise<void>;
}

/** Machines of the active disputes, created on demand from their rows (traces from src/node/traces.ts: a stored file or recomputed). */
export class DisputeBook {
  private readonly machines = new Map<string, DisputeMachine>();
  constructor(private readonly ctx: NodeContext) {}

  machine(row: DisputeRow): DisputeMachine {
    let m = this.machines.get(row.disputeId);
    if (!m) {
      const ctx = this.ctx;
      m = new DisputeMachine(ctx, row.disputeId, () => {
        const t = traceFor(ctx, { taskId: row.taskId, idx: row.idx }, row.traceRoot);
        return ctx.engine.stateProvider(t.modelRoot, t.trace);
      });
      this.machines.set(row.disputeId, m);
    }
    return m;
  }

  /** One step of every active dispute (bounded: one transition each). */
  async stepAll(): Promise<void> {
    for (const row of this.ctx.store.listDisputes({ active: true })) {
      const after = await this.machine(row).step();
      if (after.state === 'done') {
        this.machines.delete(row.disputeId);
        const won = winnerOf(after.outcome) === after.side;
        this.ctx.store.updateTask(after.taskId, { status: after.side === 'challenger' ? (won ? 'invalidated' : 'verified') : won ? 'committed' : 'invalidated' });
      }
    }
  }
}

/** The input tensors published with single tasks in a batch of market logs, by task id (InputPublished). */
export function publishedInputs(logs: readonly { eventName: string; args: unknown }[]): Map<string, { inputHash: Hex; inputs: TensorJson[] }> {
  const inputs = new Map<string, { inputHash: Hex; inputs: TensorJson[] }>();
  for (const l of logs) {
    if (l.eventName !== 'InputPublished') continue;
    const a = l.args as { taskId: bigint; inputHash: Hex; inputs: { dtype: number; shape: number[]; data: Hex }[] };
    inputs.set(String(a.taskId), { inputHash: a.inputHash, inputs: a.inputs.map((t) => tensorToJson(tensorFromArg(t))) });
  }
  return inputs;
}

/** A TaskPosted log's fields. */
export interface TaskPostedArgs {
  taskId: bigint;
  requester: Hex;
  modelId: bigint;
  inputRoot: Hex;
  itemCount: number;
  fee: bigint;
  deadline: bigint;
}

/** The store row of a posted task seen on chain (its inputs when InputPublished carried them), as `status`. */
export function postedTaskRow(
  a: TaskPostedArgs,
  postTx: Hex,
  modelRoot: string,
  inp: { inputHash: Hex; inputs: TensorJson[] } | undefined,
  status: 'open' | 'skipped',
): Parameters<NodeStore['insertTask']>[0] {
  const id = String(a.taskId);
  return {
    taskId: id,
    chainTaskId: id,
    modelId: String(a.modelId),
    modelRoot,
    requester: a.requester,
    itemCount: a.itemCount,
    fee: String(a.fee),
    deadline: Number(a.deadline),
    inputHash: inp?.inputHash ?? null,
    inputs: inp ? JSON.stringify(inp.inputs) : null,
    inputRoot: a.itemCount > 1 ? a.inputRoot.toLowerCase() : null,
    status,
    txs: { post: postTx },
  };
}
