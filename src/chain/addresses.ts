/** Addresses of a deployed Verity protocol (no imports: every part of src/chain may use it). */
import type { Address } from 'viem';

export interface ProtocolAddresses {
  /** VRT (ERC20Votes): fees, stake, bonds, votes. */
  token: Address;
  /** Governance timelock: owns every parameter. */
  timelock: Address;
  /** OpenZeppelin Governor (VRT votes) proposing to the timelock. */
  governor: Address;
  /** ERC-8004 identity registry (agents). */
  identityRegistry: Address;
  /** ERC-8004 reputation registry (market-written outcomes). */
  reputationRegistry: Address;
  /** ERC-8004 validation registry (dispute verdicts). */
  validationRegistry: Address;
  modelRegistry: Address;
  staking: Address;
  taskMarket: Address;
  disputeGame: Address;
  /** IOneStepVerifier used by the game (the real router, or a caller-supplied one). */
  oneStepVerifier: Address;
  /** Op-family contracts of the real verifier (absent when a verifier address was supplied). */
  verifierFamilies?: { dense: Address; elementwise: Address; reduce: Address };
}
