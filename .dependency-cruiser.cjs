// The allowed directions between the parts of the gateway, checked in CI
// (`npm run deps`, run by .ci/run). Type-only imports count: a circle of
// types is still a circle a newcomer has to untangle.
//
// The layers, from the bottom up:
//   channels/            one provider each, behind channels/types.ts; knows nothing of src/
//   src/router/          the pure, explainable decision; knows no provider, no database
//   src/db, src/conversations (timeline, live events), src/webhooks-out, src/audit.ts
//   src/messaging/       shared by both directions: message status (and its order),
//                        consent changes, thread writing, the confirmation port
//   src/outbound/  src/inbound/    the two directions; never import each other
//   src/campaigns/ src/inbox/ src/payments/ ...   features built on the directions
//   src/modules.ts       the one list of feature modules; only src/gateway.ts reads it
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import circles, of values or of types (move the shared part one layer down instead).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'outbound-not-inbound',
      severity: 'error',
      comment: 'Outbound never imports inbound: what both need lives in src/messaging/ (webhook verification: src/http/provider-requests.ts).',
      from: { path: '^src/outbound/' },
      to: { path: '^src/inbound/' },
    },
    {
      name: 'inbound-not-outbound',
      severity: 'error',
      comment: 'Inbound never imports outbound: replies it asks for go through src/messaging/confirmations.ts.',
      from: { path: '^src/inbound/' },
      to: { path: '^src/outbound/' },
    },
    {
      name: 'messaging-below-directions',
      severity: 'error',
      comment: 'src/messaging/ is below both directions and every feature: it imports none of them, nor a provider.',
      from: { path: '^src/messaging/' },
      to: { path: '^(channels/|src/(outbound|inbound|campaigns|inbox|import|payments|api|http|sandbox|scheduler|cli)/|src/(modules|gateway|main|providers)\\.ts$)' },
    },
    {
      name: 'conversations-below-messaging',
      severity: 'error',
      comment: 'The timeline (src/conversations/) is below the shared messaging layer and the features.',
      from: { path: '^src/conversations/' },
      to: { path: '^(channels/|src/(messaging|outbound|inbound|campaigns|inbox|import|payments|api|http|sandbox|cli)/|src/(modules|gateway|main)\\.ts$)' },
    },
    {
      name: 'router-is-pure',
      severity: 'error',
      comment: 'The router decides from a snapshot it is handed: it knows no provider, no database, no direction, no app context.',
      from: { path: '^src/router/' },
      to: { path: '^(channels/|src/(?!router/))' },
    },
    {
      name: 'channels-only-shared-types',
      severity: 'error',
      comment: 'A provider folder imports nothing from src/ but types (the gateway calls it, never the reverse).',
      from: { path: '^channels/' },
      to: { path: '^src/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'channels-not-features',
      severity: 'error',
      comment: 'Not even types from the directions or features: a provider speaks channels/types.ts.',
      from: { path: '^channels/' },
      to: { path: '^src/(outbound|inbound|campaigns|inbox|messaging|router|import|payments)/|^src/(modules|gateway)\\.ts$' },
    },
    {
      name: 'campaigns-not-inbound',
      severity: 'error',
      comment: 'Campaigns plan and send through outbound; they do not reach into inbound processing or the inbox.',
      from: { path: '^src/campaigns/' },
      to: { path: '^src/(inbound|inbox)/' },
    },
    {
      name: 'only-gateway-reads-module-list',
      severity: 'error',
      comment: 'src/modules.ts lists the features; a feature importing it ties every feature to every other.',
      from: { path: '^(src|channels)/', pathNot: '^src/gateway\\.ts$' },
      to: { path: '^src/modules\\.ts$' },
    },
    {
      name: 'only-main-starts-gateway',
      severity: 'error',
      comment: 'The composition root is imported by the entry point (and tests), not by what it composes.',
      from: { path: '^(src|channels)/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/gateway\\.ts$' },
    },
    {
      name: 'product-not-tests',
      severity: 'error',
      comment: 'The product never imports test support or benchmarks.',
      from: { path: '^(src|channels)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo or a deleted file fails here with the path, not at run time).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'product-not-dev-deps',
      severity: 'error',
      comment:
        'npm start runs with production dependencies only. src/db/catalog.ts loads the schema parser lazily, ' +
        'for the schema tools only (the drift test and npm run db:migration:new).',
      from: { path: '^(src|channels)/', pathNot: '^src/db/catalog\\.ts$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // Generated by Prisma (its own internal circles are not ours to fix).
    exclude: { path: '^src/generated/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
