/** On-chain side of the node: deployment, actions, typed errors, commitments in the market's format. */
export { deployProtocol, type DeployProtocolOptions, type DeployProtocolReturnType, type DeployProtocolErrorType } from './deploy.js';
export * from './actions/index.js';
export { ContractRevertError, TransactionError, UnexpectedReceiptError, decodeContractError, formatArg, type ChainActionErrorType } from './errors.js';
export { sendContractTransaction, sendRequest, senderFor, deployContract, type ChainClients, type SentTransaction, type ContractCall } from './send.js';
export { contractCall, callsOf, protocolCalls, eventIn, eventsIn, type TxRequest, type Calls, type ProtocolCalls, type WriteArgs, type WriteName } from './call.js';
export { TxSender, MemoryJournal, TxFailedError, TxPendingError, viemPort, type TxJournal, type TxRow, type ChainPort } from './tx.js';
export { deployOneStepVerifier, oneStepVerifierFullAbi, type DeployedVerifier } from './verifier.js';
export { inputLeaf, resultLeaf, resultLeaves, PositionalTree, PositionalMerkleError, MAX_LEAVES } from './positional.js';
export { tensorArg, inputHashOf, outputHashOf, type TensorArg } from './io.js';
export { protocolErrorsAbi } from './abi.js';
export type { ProtocolAddresses, ProtocolClients } from './types.js';
