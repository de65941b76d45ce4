import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the Clientele process at /console, from dist/console.
export default defineConfig({
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    sourcemap: false,
  },
});
