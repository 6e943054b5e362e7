/** The dispute game's TypeScript side (docs/protocol.md §Dispute game). */
export { firstDisagreement, DisagreementError, type Disagreement } from './disagreement.js';
export {
  DisputeClient,
  DisputeClientError,
  traceStateProvider,
  childrenOf,
  ioDigest,
  Phase,
  Outcome,
  type StateProvider,
  type OneStepBuilder,
  type OneStepArg,
  type NodeProofArg,
  type WordsProofArg,
  type GameState,
  type MoveRecord,
  type PlayedMove,
  type DisputeClientOptions,
} from './client.js';
export { disputeGameAbi } from './abi.js';
export { MOVE_TABLE, moverOf, nextMove, opensSums, winnerOf, type MoveName, type Side, type PhaseCode, type OutcomeCode } from './moves.js';
