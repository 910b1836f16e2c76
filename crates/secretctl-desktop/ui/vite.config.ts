import { defineConfig } from "vite";

// Everything is bundled into dist/: no remote content, no inline script (the CSP forbids it).
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari15",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
