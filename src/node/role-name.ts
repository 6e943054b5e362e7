/** The node roles. A leaf module, so batch and discovery code can name a role without importing the roles. */
export type RoleName = 'worker' | 'verifier' | 'requester';
