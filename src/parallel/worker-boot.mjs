// Worker entry for BatchPool (pool.ts): registers tsx's TypeScript loader in this thread (the
// project runs its .ts sources through tsx; a worker does not inherit a test runner's transform),
// then runs worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
