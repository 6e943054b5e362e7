// The game's ABI, from the generated artifacts (scripts/compile.ts); test/dispute/abi.test.ts checks it
// matches a fresh compile of contracts/dispute/DisputeGame.sol.
export { disputeGameAbi } from '../chain/artifacts/DisputeGame.js';
