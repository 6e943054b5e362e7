/** Addresses of a deployed Verity protocol and the context the actions run in. */
import type { ChainClients } from './send.js';

export type { ProtocolAddresses } from './addresses.js';
import type { ProtocolAddresses } from './addresses.js';

/** Clients plus the protocol's addresses: what every action takes. */
export interface ProtocolClients extends ChainClients {
  addresses: ProtocolAddresses;
}
