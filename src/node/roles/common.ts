/** What the three roles share: the Role interface and stepping the tracked disputes. */
import { traceFor } from '../traces.js';
import { DisputeMachine } from '../dispute-fsm.js';
import type { NodeContext } from '../context.js';
import type { DisputeRow, NodeStore, TaskStatus } from '../store.js';
import type { Hex } from 'viem';
import { winnerOf } from '../../dispute/moves.js';
import { modelRootOf, tensorFromArg } from '../context.js';
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

/**
 * Stores a TaskPosted log as a task row: `open` when the model is loaded and `serves` (this role's test of the
 * posted fields and the inputs published with it) says yes, else `skipped`.
 */
export async function insertPostedTask(
  ctx: NodeContext,
  log: { args: unknown; transactionHash: Hex },
  inputs: ReadonlyMap<string, { inputHash: Hex; inputs: TensorJson[] }>,
  serves: (a: TaskPostedArgs, inp: { inputHash: Hex; inputs: TensorJson[] } | undefined) => boolean,
): Promise<void> {
  const a = log.args as TaskPostedArgs;
  const inp = inputs.get(String(a.taskId));
  const modelRoot = await modelRootOf(ctx, a.modelId);
  const open = serves(a, inp) && ctx.engine.has(modelRoot);
  ctx.store.insertTask(postedTaskRow(a, log.transactionHash, modelRoot, inp, open ? 'open' : 'skipped'));
}

/** A ResultCommitted log's fields. */
export type ResultCommittedArgs = {
  taskId: bigint;
  worker: Hex;
  outputHash: Hex;
  challengeDeadline: bigint;
  outputs: { dtype: number; shape: number[]; data: Hex }[];
};

/** Records a ResultCommitted log on the task row `taskId` (its worker, digest, window and outputs) as `status`, with its commit tx. */
export function recordCommittedResult(store: NodeStore, taskId: string, status: TaskStatus, c: ResultCommittedArgs, commitTx: Hex): void {
  store.updateTask(taskId, {
    status,
    worker: c.worker,
    outputHash: c.outputHash,
    challengeDeadline: Number(c.challengeDeadline),
    outputs: JSON.stringify(c.outputs.map((x) => tensorToJson(tensorFromArg(x)))),
  });
  store.addTaskTx(taskId, 'commit', commitTx);
}
