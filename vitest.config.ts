import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // node-datachannel is a native addon: forks, never threads.
    pool: 'forks',
    // One file at a time: WebRTC handshakes in one file and Chromium plus a Vite build in another,
    // on 2 cores, starved each other into rare handshake timeouts; in parallel it was no faster.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    server: {
      deps: {
        // Inlined so that vi.resetModules() gives each simulated peer its own Trystero
        // module instance, hence its own selfId (see test/support/trystero-peer.ts).
        inline: [/@trystero-p2p\//, /[\\/]trystero[\\/]/]
      }
    }
  }
})
