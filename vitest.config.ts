import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: more forks only thrash.
    maxWorkers: 2,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // main.ts runs in a child process in test/cli.test.ts, where v8 coverage of this
      // process cannot see it; types.ts holds only types.
      exclude: ['src/main.ts', 'src/store/types.ts'],
      reporter: ['text-summary'],
      thresholds: { statements: 90, branches: 90, functions: 90, lines: 90 },
    },
  },
})
