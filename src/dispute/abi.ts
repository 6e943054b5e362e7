// The game's ABI, from the generated artifacts (scripts/compile.ts). `npm test` runs `npm run compile -- --check`,
// which fails when src/chain/artifacts/ (this ABI included) differs from a fresh compile of contracts/.
export { disputeGameAbi } from '../chain/artifacts/DisputeGame.js';
