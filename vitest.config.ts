import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Console pages are .tsx rendered by Keepwarm's own tiny runtime (src/console/html.ts).
  oxc: { jsx: { runtime: 'classic', pragma: 'h', pragmaFrag: 'Fragment', development: false } },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
