// Builds the console (src/ui) into dist/ui: hashed file names under assets/ (served with
// immutable caching), no inline script or style (the page's Content-Security-Policy forbids
// them), relative URLs so that the server's <base> places one build under any ui.path.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/ui', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Every asset is a file: an inlined data: URL would be script or style the policy must allow.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    target: 'es2022',
  },
});
