/** Addresses of a deployed Verity protocol and the context the actions run in. */
import type { Address } from 'viem';
import type { ChainClients } from './send.js';

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

/** Clients plus the protocol's addresses: what every action takes. */
export interface ProtocolClients extends ChainClients {
  addresses: ProtocolAddresses;
}
