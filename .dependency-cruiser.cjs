/**
 * Layering of src/ (docs/architecture.md states the same arrows in prose). `npm run lint:layers` runs this with
 * dependency-cruiser and `npm test` fails on any violation: a cycle, or an arrow the architecture forbids.
 */
const NODE_IO = '^(node:)?(fs|fs/promises|net|http|https|http2|child_process|dgram|tls|cluster|readline|worker_threads)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles in src/: every part has a direction (see docs/architecture.md).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'pure-stays-pure',
      severity: 'error',
      comment: 'src/engine and src/commit are pure: they import nothing from chain, node, agents, cli, web, dispute or verifier.',
      from: { path: '^src/(engine|commit)/' },
      to: { path: '^src/(chain|node|agents|cli|web|dispute|verifier|onnx)/' },
    },
    {
      name: 'pure-no-io',
      severity: 'error',
      comment: 'src/engine and src/commit do no I/O (they run in the browser too).',
      from: { path: '^src/(engine|commit)/' },
      to: { dependencyTypes: ['core'], path: NODE_IO },
    },
    {
      name: 'node-not-cli',
      severity: 'error',
      comment: 'The node is a library the CLI drives; it never imports the CLI.',
      from: { path: '^src/node/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'web-not-node',
      severity: 'error',
      comment: 'The page is built at build time and talks to the node over HTTP; it never imports the node.',
      from: { path: '^src/web/' },
      to: { path: '^src/(node|cli|agents)/' },
    },
    {
      name: 'chain-is-a-base',
      severity: 'error',
      comment: 'src/chain sends and decodes protocol calls; it never imports the parts built on it.',
      from: { path: '^src/chain/' },
      to: { path: '^src/(node|cli|agents|web|dispute|verifier)/' },
    },
    {
      name: 'node-not-web',
      severity: 'error',
      comment: 'The node serves the prebuilt page (dist/web); the types both sides need live in src/views.',
      from: { path: '^src/node/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'views-are-shared',
      severity: 'error',
      comment: 'src/views (API answers as zod schemas and types) is imported by the node and the page, so it imports neither (only the generated contract enums).',
      from: { path: '^src/views/' },
      to: { path: '^src/(node|cli|agents|web|dispute|chain|verifier|onnx)/', pathNot: '^src/chain/(enums|artifacts/enums)[.]ts$' },
    },
    {
      name: 'dispute-not-node',
      severity: 'error',
      comment: 'The dispute game client is a library the node drives; it never imports the node, the CLI or the agents.',
      from: { path: '^src/dispute/' },
      to: { path: '^src/(node|cli|agents|web)/' },
    },
    {
      name: 'no-runtime-bundler',
      severity: 'error',
      comment: 'Nothing in src/ bundles at run time: the page is prebuilt by `npm run build:web` (scripts/).',
      from: { path: '^src/' },
      to: { path: '^node_modules/esbuild/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
