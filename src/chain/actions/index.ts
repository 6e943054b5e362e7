/** Protocol actions (viem style: one action per file, each with Parameters / ReturnType / ErrorType). */
export * from './ensureAllowance.js';
export * from './registerAgent.js';
export * from './stake.js';
export * from './registerModel.js';
export * from './postTask.js';
export * from './postBatchTask.js';
export * from './claimTask.js';
export * from './commitResult.js';
export * from './commitBatch.js';
export * from './finalizeTask.js';
export * from './challengeResult.js';
export * from './resolveDispute.js';
export * from './transferToken.js';
