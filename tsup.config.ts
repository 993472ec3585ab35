import { defineConfig } from 'tsup'

/** Optional peer dependencies of the keeper (trystero-yjs/node): the app installs them. */
const keeperPackages = ['better-sqlite3', /^node-datachannel/, 'y-websocket']

export default defineConfig([{
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', node: 'src/node/index.ts', lww: 'src/lww/index.ts', compare: 'src/compare/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  target: 'es2022',
  // Peer and regular dependencies stay imports: the app's bundler dedupes yjs, and the
  // app picks its Trystero strategy.
  external: ['yjs', 'trystero', /^@trystero-p2p\//, 'y-protocols', 'lib0', 'aedes', 'ws', ...keeperPackages]
}, {
  // The broker command: ESM only, no declarations.
  entry: { 'broker-cli': 'src/node/broker-cli.ts' },
  format: ['esm'],
  sourcemap: true,
  target: 'node20',
  external: ['aedes', 'ws']
}, {
  // The keeper command: ESM only, no declarations. The app's yjs, strategy and native packages.
  entry: { 'keeper-cli': 'src/node/keeper-cli.ts' },
  format: ['esm'],
  sourcemap: true,
  target: 'node20',
  external: ['yjs', 'trystero', /^@trystero-p2p\//, 'y-protocols', 'lib0', 'ws', ...keeperPackages]
}])
