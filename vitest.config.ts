import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // integration files start real servers on shared ports: run files one at a time, tests inside in order
    fileParallelism: false,
    reporters: ["default"],
  },
});
