import { defineConfig } from 'vitest/config';

// Unit tests run in plain Node: src/lib/quant must never need a DOM.
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
