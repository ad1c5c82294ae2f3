import { describe, expect, it } from "vitest";
import { checkValidity, type GeneratorFigures } from "../../bench/lib/xmpp-validity.js";
import { render } from "../../scripts/bench-doc.js";

const machine = { host: "h", cores: 2, cpu: "cpu", memGiB: 24, node: "v20" };
const line = (figure: string, value: number | boolean, date: string, detail?: Record<string, unknown>) =>
  JSON.stringify({
    figure,
    value,
    unit: typeof value === "number" ? "ms" : "",
    command: "node bench/x.ts",
    what: `what ${figure}`,
    detail,
    commit: "abc",
    date,
    loadBefore: [0.5, 0, 0],
    loadAfter: [0.7, 0, 0],
    machine,
  });

describe("the benchmarks page generator", () => {
  const template = "# B\n\n<!-- bench: x | node bench/x.ts -->\n\n<!-- bench: y | make y -->\n";
  const results = [
    line("x.a", 1, "2026-12-04T10:00:00Z"),
    line("x.b", 2, "2026-12-04T10:00:00Z"),
    line("x.a", 3, "2026-12-04T11:00:00Z"),
  ].join("\n");

  it("shows the latest line of each figure with its command and date, in first-seen order", () => {
    const page = render(template, results);
    expect(page).toContain("| what x.a | 3 ms | `node bench/x.ts` | 2026-12-04 11:00 UTC, load 0.5 → 0.7, abc |");
    expect(page.indexOf("what x.a")).toBeLessThan(page.indexOf("what x.b"));
    expect(page).not.toContain("| 1 ms |");
  });

  it("says which command measures a table that has no figures yet", () => {
    expect(render(template, results)).toContain("_Not measured yet on this machine: run `make y`._");
  });

  it("gives the same page for the same results", () => {
    expect(render(template, results)).toBe(render(template, results));
  });

  it("shows an invalid run with its reasons", () => {
    const page = render(template, line("x.valid", false, "2026-12-04T10:00:00Z", { reasons: ["the server was busy"] }));
    expect(page).toContain("**invalid**: the server was busy");
  });

  it("shows a run's own checks as passed, or failed with their reasons", () => {
    expect(render(template, line("x.passed", true, "2026-12-04T10:00:00Z"))).toContain("| **passed** |");
    const page = render(template, line("x.passed", false, "2026-12-04T10:00:00Z", { reasons: ["3 users crashed"] }));
    expect(page).toContain("**failed**: 3 users crashed");
  });
});

describe("the validity check of the XMPP comparison", () => {
  const gen = (name: string, connected: number, serverPeak: number | null): GeneratorFigures => ({
    name,
    users_launched: 1000,
    users_connected_by_tool: connected,
    rss_kb_per_user: 5,
    cpu_ms_per_user: 1,
    sys_ms_per_user: 0.3,
    login_ms: 10,
    login_stat: "mean",
    errors: 0,
    chats_sent: 0,
    chats_received: 0,
    server_peak_cpu_cores: serverPeak,
    server_cpu_ms_per_user: 3,
    kernel: { ss_sockets: 0, ss_bytes_per_user: 0, slab_bytes_per_socket: 3712, sockstat_bytes_per_user: 0 },
  });

  it("accepts a run where both logged in 99 % with the server below 0.8 core on a quiet machine", () => {
    const v = checkValidity([gen("tsung", 990, 0.5), gen("amoc-ts", 1000, 0.4)], { loadBefore: [0.2], cores: 2 });
    expect(v).toEqual({ valid: true, reasons: [] });
  });

  it("names the server as the bottleneck when it peaked at 0.8 core or more", () => {
    const v = checkValidity([gen("tsung", 1000, 1.01), gen("amoc-ts", 1000, 0.3)], { loadBefore: [0.2], cores: 2 });
    expect(v.valid).toBe(false);
    expect(v.reasons[0]).toMatch(/^the server was the bottleneck \(Prosody peaked at 1.01 cores in tsung's run/);
  });

  it("refuses a run with fewer than 99 % logged in or a busy machine", () => {
    const v = checkValidity([gen("amoc-ts", 1950, 0.3)], { expectedUsers: 5000, loadBefore: [1.5], cores: 2 });
    expect(v.reasons).toEqual([
      "amoc-ts logged in 1950 of 5000 users (< 99 %)",
      "the machine was busy: load average 1.5 before the run on 2 cores (other work shared the CPU)",
    ]);
  });
});
