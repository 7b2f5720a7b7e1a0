import { defineConfig, loadEnv, searchForWorkspaceRoot } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

// Shared with the Flask server: upload size limit and accepted MIME types.
const configDir = fileURLToPath(new URL('../config', import.meta.url))

export default defineConfig(({ mode }) => {
  const env = { ...loadEnv(mode, process.cwd(), ''), ...process.env }
  // Where the dev server forwards /api/* (the Flask backend). Paths are NOT
  // rewritten: the backend answers both /predict and /api/predict.
  const apiTarget = env.VITE_API_TARGET || 'http://127.0.0.1:5000'
  const proxy = { '/api': { target: apiTarget, changeOrigin: true } }

  return {
    plugins: [react()],
    resolve: {
      alias: { '@config': configDir },
    },
    server: {
      // `--host 0.0.0.0` on the command line (docker) or VITE_HOST overrides this.
      host: env.VITE_HOST || undefined,
      port: 5173,
      strictPort: true,
      proxy,
      fs: { allow: [searchForWorkspaceRoot(process.cwd()), configDir] },
    },
    preview: { port: 4173, proxy },
    build: { outDir: 'dist', emptyOutDir: true },
    test: {
      environment: 'jsdom',
      setupFiles: ['./src/test/setup.js'],
      include: ['src/**/*.test.{js,jsx}'],
      css: false,
    },
  }
})
