import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    projects: [
      // unit tests run on fake time (test/helpers/fake-clock.ts) and assert exact outcomes
      // the timeout leaves room for a test that spawns a child process (the upload check) on a loaded 2-core machine
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 30_000 } },
      {
        test: {
          // checks that need the wall clock (rates, start accuracy, event-loop yielding) with tolerance bands; no
          // servers. One file at a time, so they do not load the CPU against each other.
          name: "timing",
          include: ["test/timing/**/*.test.ts"],
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          // files run one at a time until every integration file reads its servers from test/helpers/endpoints.ts
          // (metrics.test.ts does; cli, cluster, xmpp and xmpp-connection still hard-code or default to fixed ports)
          fileParallelism: false,
          globalSetup: ["test/helpers/servers-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
