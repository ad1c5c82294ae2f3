import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CORE_METRIC_NAMES } from "../../src/metrics/names.js";

const ROOT = new URL("../../", import.meta.url);
const docs = readFileSync(new URL("docs/metrics.md", ROOT), "utf8");
const dashboard = JSON.parse(readFileSync(new URL("docs/grafana/amoc-dashboard.json", ROOT), "utf8")) as Record<
  string,
  unknown
>;

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Array<{ refId: string; target: string }>;
}
interface Variable {
  type: string;
  name: string;
  query: unknown;
}

const panels = dashboard.panels as Panel[];
const variables = (dashboard.templating as { list: Variable[] }).list;

/** The metric paths a Graphite target reads: `stats.<type>.$prefix.$node.<metric>[.<stat>]`. */
function metricPaths(target: string): string[] {
  return [...target.matchAll(/stats\.(counters|timers|gauges)\.\$prefix\.\$node\.([A-Za-z0-9_.]+)/g)].map(
    (m) => `stats.${m[1]}.<prefix>.<node>.${m[2]}`,
  );
}

describe("the Grafana dashboard", () => {
  it("is a dashboard Grafana can import: schemaVersion, title, uid, time range and panels", () => {
    expect(typeof dashboard.schemaVersion).toBe("number");
    expect(dashboard.schemaVersion as number).toBeGreaterThanOrEqual(36);
    expect(typeof dashboard.title).toBe("string");
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.time).toEqual({ from: expect.any(String), to: "now" });
    expect(panels.length).toBeGreaterThanOrEqual(7);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it("places every panel on the 24-column grid and gives every target a refId and a Graphite target", () => {
    for (const p of panels) {
      const g = p.gridPos;
      expect(
        [g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n) && n >= 0),
        p.title,
      ).toBe(true);
      expect(g.w).toBeGreaterThan(0);
      expect(g.x + g.w).toBeLessThanOrEqual(24);
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets) {
        expect(t.refId).toMatch(/^[A-Z]+$/);
        expect(typeof t.target).toBe("string");
        // parentheses balance: a typo here only shows up as an empty panel
        expect(
          [...t.target].reduce((d, c) => d + (c === "(" ? 1 : c === ")" ? -1 : 0), 0),
          t.target,
        ).toBe(0);
      }
    }
  });

  it("has the panels the issue asks for", () => {
    const titles = panels.map((p) => p.title.toLowerCase()).join("\n");
    for (const want of [
      "users running per node",
      "arrivals/s",
      "crashes",
      "connection time p95 / p99",
      "time to delivery p50 / p99",
      "messages/s",
      "event-loop lag",
    ])
      expect(titles).toContain(want);
    const all = panels.flatMap((p) => p.targets.map((t) => t.target)).join("\n");
    for (const want of [
      "xmpp.connection.upper_95",
      "xmpp.connection.upper_99",
      "xmpp.message_ttd.upper_50",
      "xmpp.message_ttd.upper_99",
      "users.running",
      "users.started.rate",
      "users.crashed",
    ])
      expect(all).toContain(want);
  });

  it("has template variables for the data source, the prefix and the node, and every target uses them", () => {
    expect(variables.map((v) => v.name)).toEqual(expect.arrayContaining(["datasource", "prefix", "node"]));
    expect(variables.find((v) => v.name === "datasource")).toMatchObject({ type: "datasource", query: "graphite" });
    expect(variables.find((v) => v.name === "node")).toMatchObject({ type: "query", query: "stats.gauges.$prefix.*" });
    for (const p of panels)
      for (const t of p.targets) expect(metricPaths(t.target).length, t.target).toBeGreaterThan(0);
  });

  it("shows the Graphite events tagged amoc as annotations", () => {
    const list = (dashboard.annotations as { list: Array<Record<string, unknown>> }).list;
    const amoc = list.find((a) => (a.datasource as { type?: string } | undefined)?.type === "graphite");
    expect(amoc).toBeDefined();
    expect(amoc!.enable).toBe(true);
    expect(amoc!.target).toMatchObject({ fromAnnotations: true, queryType: "tags", tags: ["amoc"] });
  });

  it("reads only metric paths that docs/metrics.md documents", () => {
    for (const p of panels) {
      for (const t of p.targets) {
        for (const path of metricPaths(t.target)) {
          const type = path.split(".")[1];
          // counters and timers end in a documented statistic; gauges are the path itself
          const stat = type === "gauges" ? undefined : path.slice(path.lastIndexOf(".") + 1);
          const base = stat === undefined ? path : path.slice(0, path.lastIndexOf("."));
          expect(docs, `${path} in ${p.title}`).toContain(`\`${base}\``);
          if (stat !== undefined) expect(docs, `.${stat} for ${type}`).toContain(`\`.${stat}\``);
        }
      }
    }
  });
});

describe("docs/metrics.md", () => {
  it("lists every metric the bridge sends", () => {
    for (const name of CORE_METRIC_NAMES) expect(docs).toContain(`| \`${name}\` |`);
  });

  it("lists every metric the XMPP helpers measure", () => {
    const dir = new URL("src/xmpp/", ROOT);
    const names = new Set<string>();
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const src = readFileSync(new URL(f, dir), "utf8");
      for (const m of src.matchAll(/\.(?:count|timing|gauge)\(\s*["'`](xmpp\.[a-z_.]+?)(\.\$\{[^}]+\})?["'`]/g))
        names.add(m[2] ? `${m[1]}.<*>` : (m[1] as string));
    }
    expect(names.size).toBeGreaterThan(10);
    for (const name of names) {
      // a literal failure reason (xmpp.connection_failures.config) is one of the documented <reason> values
      const reason = /^(xmpp\.connection_failures)\.([a-z]+)$/.exec(name);
      if (reason) {
        expect(docs).toContain(`| \`${reason[1]}.<reason>\` |`);
        expect(docs).toContain(`\`${reason[2]}\``);
      } else if (name.endsWith(".<*>")) {
        // a computed last element (`xmpp.iq.${kind}`) is documented with a placeholder of its own name: <reason>, <kind>
        expect(docs).toMatch(new RegExp(`\\| \`${name.slice(0, -4).replaceAll(".", "\\.")}\\.<[a-z_]+>\` \\|`));
      } else expect(docs).toContain(`| \`${name}\` |`);
    }
  });
});
