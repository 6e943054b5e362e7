/**
 * Registers a model by its modelRoot (ModelRegistry.registerModel), or with its declared trace shape
 * (ModelRegistry.registerModelWithShape: auditable by the AuditBook, trace bounded in disputes) when `shape` is given.
 */
import type { Hex, TransactionReceipt } from 'viem';
import { OP_TYPES, type QModel } from '../../engine/ir.js';
import { modelRegistryAbi } from '../artifacts/index.js';
import type { ChainActionErrorType } from '../errors.js';
import { eventIn } from '../call.js';
import { sendContractTransaction } from '../send.js';
import type { ProtocolClients } from '../types.js';

export interface RegisterModelParameters {
  /** modelRoot (docs/protocol.md §modelRoot). */
  modelRoot: Hex;
  metadataURI: string;
  /** Bit i set = the model uses op i of OP_TYPES (non-zero). */
  opsBitmap: bigint;
  /** The model's declared trace shape (ModelRegistry.Shape); with it the model is registered registerModelWithShape. */
  shape?: ModelShape;
}

/** ModelRegistry.Shape: tensors of a trace (numInputs + nodeCount) and the gas one step may take. */
export interface ModelShape {
  numInputs: number;
  nodeCount: number;
  numOutputs: number;
  maxStepGas: bigint;
}

/** The declared shape of `model` (inputs, nodes, outputs) with `maxStepGas`. */
export function modelShape(model: Pick<QModel, 'inputs' | 'nodes' | 'outputs'>, maxStepGas: bigint): ModelShape {
  return { numInputs: model.inputs.length, nodeCount: model.nodes.length, numOutputs: model.outputs.length, maxStepGas };
}

export interface RegisterModelReturnType {
  modelId: bigint;
  hash: Hex;
  receipt: TransactionReceipt;
}

export type RegisterModelErrorType = ChainActionErrorType;

/** ModelRegistry's opsBitmap: bit i set for every op the model uses, i its index in OP_TYPES. */
export function opsBitmap(model: Pick<QModel, 'nodes'>): bigint {
  let b = 0n;
  for (const n of model.nodes) b |= 1n << BigInt(OP_TYPES.indexOf(n.op));
  return b;
}

export async function registerModel(client: ProtocolClients, p: RegisterModelParameters): Promise<RegisterModelReturnType> {
  const address = client.addresses.modelRegistry;
  const r = p.shape
    ? await sendContractTransaction(client, {
        contract: 'ModelRegistry',
        address,
        abi: modelRegistryAbi,
        functionName: 'registerModelWithShape',
        args: [p.modelRoot, p.metadataURI, p.opsBitmap, p.shape],
      })
    : await sendContractTransaction(client, {
        contract: 'ModelRegistry',
        address,
        abi: modelRegistryAbi,
        functionName: 'registerModel',
        args: [p.modelRoot, p.metadataURI, p.opsBitmap],
      });
  const ev = eventIn(r.receipt, modelRegistryAbi, address, 'ModelRegistered');
  return { modelId: ev.modelId, hash: r.hash, receipt: r.receipt };
}
