/**
 * The layer rules (docs/architecture.md), checked by `npm test` (pretest: `npm run depcheck`).
 * Tried by planting a forbidden import: each rule fails the check.
 */
module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'no import cycle (a type-only import, erased at build, does not make one)', from: {}, to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } } },
    { name: 'domain-is-pure', severity: 'error', comment: 'domain/ imports nothing outside domain/', from: { path: '^domain/' }, to: { path: '^(projections|src)/' } },
    { name: 'projections-on-domain-only', severity: 'error', comment: 'projections/ imports only domain/', from: { path: '^projections/' }, to: { path: '^src/' } },
    { name: 'server-not-cli', severity: 'error', comment: 'the HTTP server calls the use cases, never the CLI', from: { path: '^src/server/' }, to: { path: '^src/cli/' } },
    { name: 'cli-not-server', severity: 'error', comment: 'only the serve verb starts the server', from: { path: '^src/cli/', pathNot: '^src/cli/verbs/serve\\.ts$' }, to: { path: '^src/server/' } },
    {
      name: 'app-below-delivery-and-wiring',
      severity: 'error',
      comment: 'use cases import neither their adapters (cli, server) nor the composition root (wiring); the re-export shims left at the old paths of the wiring modules are the exception until merged branches import src/wiring',
      from: { path: '^src/app/', pathNot: '^src/app/(backend|openStore|mirroredBackend)\\.ts$' },
      to: { path: '^src/(cli|server|wiring)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|src/web)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: '^(domain|projections|src)/',
  },
}
