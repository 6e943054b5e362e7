/** On-chain side of the node: deployment, actions, typed errors, commitments in the market's format. */
export { deployProtocol, type DeployProtocolOptions, type DeployProtocolReturnType, type DeployProtocolErrorType } from './deploy.js';
export * from './actions/index.js';
export { ContractRevertError, TransactionError, UnexpectedReceiptError, decodeContractError, formatArg, type ChainActionErrorType } from './errors.js';
export { NonceManager, defaultNonceManager } from './nonce.js';
export { sendContractTransaction, deployContract, eventOf, type ChainClients, type SentTransaction, type ContractCall } from './send.js';
export { inputLeaf, resultLeaf, PositionalTree, PositionalMerkleError, MAX_LEAVES } from './positional.js';
export { tensorArg, inputHashOf, outputHashOf, type TensorArg } from './io.js';
export { protocolErrorsAbi } from './abi.js';
export type { ProtocolAddresses, ProtocolClients } from './types.js';
