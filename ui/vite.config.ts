// Builds the dashboard (ui/src) into ui/dist: hashed file names under assets/, which
// `ream serve` sends with a year-long immutable cache (src/server/routes/ui.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const CLIENT_DIR = fileURLToPath(new URL('../src/client/', import.meta.url));

/**
 * The SDK runs in the browser through its browser adapters: an import of `./x.ts` inside
 * src/client resolves to `./x.browser.ts` when there is one. Any `node:` module that still
 * reaches the bundle fails the build, rather than being stubbed and failing at run time.
 */
function browserClient(): Plugin {
  return {
    name: 'ream-browser-client',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source.startsWith('node:')) throw new Error(`${importer ?? 'the dashboard'} imports ${source}: the browser bundle cannot hold Node modules`);
      if (importer === undefined || !importer.startsWith(CLIENT_DIR) || !source.startsWith('./') || !source.endsWith('.ts')) return null;
      const browser = fileURLToPath(new URL(source.replace(/\.ts$/, '.browser.ts'), `file://${importer}`));
      return existsSync(browser) ? browser : null;
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Relative: the console works under a path prefix (a reverse proxy's /ream/) as at /.
  base: './',
  plugins: [browserClient()],
  resolve: { alias: { '@client': fileURLToPath(new URL('../src/client/index.ts', import.meta.url)) } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline data: URLs: every asset is a file under the Content-Security-Policy.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 400,
  },
});
