/**
 * The demo page reads like an app using the published package (`import … from 'trystero-yjs'`);
 * the aliases point those imports at the sources, so the demo needs no build of the library.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const source = (path: string): string => fileURLToPath(new URL(`../src/${path}`, import.meta.url))

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  resolve: {
    alias: [
      { find: /^trystero-yjs\/compare$/, replacement: source('compare/index.ts') },
      { find: /^trystero-yjs\/lww$/, replacement: source('lww/index.ts') },
      { find: /^trystero-yjs$/, replacement: source('index.ts') }
    ]
  },
  build: {
    outDir: fileURLToPath(new URL('../dist-demo', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      output: {
        // Each strategy and each editor in a chunk named after it: the page loads only the ones
        // chosen (test/browser checks which ones it requested).
        chunkFileNames: (chunk) => {
          const strategy = chunk.moduleIds.map((id) => /@trystero-p2p[\\/](nostr|torrent|mqtt)[\\/]/.exec(id)?.[1]).find(Boolean)
          if (strategy !== undefined) return `assets/strategy-${strategy}-[hash].js`
          const editor = chunk.moduleIds.map((id) => /demo[\\/]src[\\/]editors[\\/](codemirror|tiptap|quill)\.ts$/.exec(id)?.[1]).find(Boolean)
          return editor === undefined ? 'assets/[name]-[hash].js' : `assets/editor-${editor}-[hash].js`
        }
      }
    }
  },
  logLevel: 'warn'
})
