import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { runConsole } from "../../src/api/console/console.js";
import { createNode } from "../../src/node/amoc-node.js";

describe("bin/amoc console on a terminal", () => {
  it("prints its banner before the first prompt", async () => {
    const node = createNode({ env: { AMOC_LOG_LEVEL: "silent" } });
    try {
      const input = new PassThrough();
      const output = new PassThrough();
      let out = "";
      output.on("data", (b: Buffer) => (out += b.toString()));
      const done = runConsole(node, { input, output, terminal: true }, { onExit: "detach" });
      input.end();
      await done;
      const banner = out.indexOf("help() lists the commands");
      expect(banner).toBeGreaterThanOrEqual(0);
      expect(out.indexOf("amoc> ")).toBeGreaterThan(banner);
    } finally {
      await node.close();
    }
  });
});
