import { describe, expect, it } from "vitest";
import { ProcessSampler, processSampler } from "../../src/metrics/process-sampler.js";

describe("the process sampler", () => {
  it("is one per process", () => {
    expect(processSampler()).toBe(processSampler());
  });
  it("readers close together get the same sample, so every view shows one CPU figure", () => {
    const s = new ProcessSampler();
    try {
      const a = s.sample();
      expect(s.sample()).toBe(a);
      expect(s.health().cpu_pct).toBe(a.cpuPct);
    } finally {
      s.close();
    }
  });
  it("the health is the sample in the dashboard's units", async () => {
    const s = new ProcessSampler();
    try {
      await new Promise((r) => setTimeout(r, 600));
      const end = Date.now() + 50;
      while (Date.now() < end); // some CPU in the window
      const h = s.health();
      const p = s.sample();
      expect(h.rss_mb).toBe(Math.round((p.rssBytes / 1048576) * 10) / 10);
      expect(h.cpu_pct).toBeGreaterThan(0);
      expect(h.loop_lag_max_ms).toBeGreaterThanOrEqual(h.loop_lag_p99_ms);
      if (process.platform === "linux") expect(h.open_files).toBeGreaterThan(0);
    } finally {
      s.close();
    }
  });
});
