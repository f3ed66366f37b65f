// The console page: built from src/web into dist/web, which `mailtime serve` serves.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const here = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the server's CSP allows only files from itself.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
})
