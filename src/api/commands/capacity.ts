/** `amoc capacity SCENARIO`: the capacity search (node/capacity/) on this node, or `--dist` over the cluster. */
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { systemClock } from "../../clock.js";
import { parseDurationMs } from "../../config/parse.js";
import { UsageError } from "../../errors.js";
import { createNode } from "../../node/amoc-node.js";
import { nodeApis } from "../../node/apis.js";
import { capacitySearch, formatCapacity } from "../../node/capacity/search.js";
import { renderCapacityReport } from "../../node/capacity/report.js";
import { parseThresholds } from "../../results/thresholds.js";
import { processSampler } from "../../metrics/process-sampler.js";
import { closeQuietly } from "./close-quietly.js";

export const CAPACITY_USAGE = `usage: amoc capacity SCENARIO --slo EXPR [--slo EXPR ...] [--start N] [--step N] [--hold DURATION]
                [--max N] [--by users] [--dist [--workers K]] [--set name=value ...] [--report FILE] [--json]
  raises the users from --start by --step (default 100 and 100), holds each step (--hold, default 30s), judges every
  --slo on that step's window ('xmpp.connection.p99<1000', 'users.crashed==0'), stops at the first failing step
  (or --max, default 100000) and prints the capacity (the largest passing step), the SLO that broke first, and the
  generator's health per step (a step limited by the generator is reported as such). Exit 0 with a capacity,
  3 when even the first step failed, 1 when the generator limited the result.`;

const num = (name: string, v: string | undefined, dflt: number) => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive whole number, not '${v}'`, CAPACITY_USAGE);
  return n;
};

export async function capacityCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(CAPACITY_USAGE + "\n");
    return 0;
  }
  const { values: v, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      start: { type: "string" },
      step: { type: "string" },
      hold: { type: "string" },
      max: { type: "string" },
      by: { type: "string" },
      slo: { type: "string", multiple: true },
      refine: { type: "boolean" },
      dist: { type: "boolean" },
      workers: { type: "string" },
      set: { type: "string", multiple: true },
      report: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const scenario = positionals[0];
  if (!scenario || positionals.length > 1) throw new UsageError("name one scenario", CAPACITY_USAGE);
  if (v.by !== undefined && v.by !== "users")
    throw new UsageError(`--by ${v.by} is not supported yet: only --by users`, CAPACITY_USAGE);
  if (v.refine) throw new UsageError("--refine is not supported yet", CAPACITY_USAGE);
  const holdMs = parseDurationMs(v.hold ?? "30s", "s");
  if (holdMs === undefined) throw new UsageError(`--hold must be a duration like 30s, not '${v.hold}'`, CAPACITY_USAGE);
  const settings: Record<string, unknown> = {};
  for (const kv of v.set ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set needs name=value, not '${kv}'`, CAPACITY_USAGE);
    settings[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const slos = parseThresholds(v.slo ?? []);
  const node = createNode({ defaults: { log_level: "warn" } });
  try {
    const apis = nodeApis(node);
    const api = v.dist ? apis.dist : apis.local;
    if (v.dist) await api.waitForWorkers(num("workers", v.workers, 1), 30_000);
    const r = await capacitySearch(
      api,
      systemClock,
      {
        scenario,
        start: num("start", v.start, 100),
        step: num("step", v.step, 100),
        max: num("max", v.max, 100_000),
        holdMs,
        slos,
        settings,
        intervalMs: node.settings.results_interval,
        // a --dist search's users run in the workers: their health is not this process's (not sampled yet)
        ...(v.dist
          ? {}
          : {
              sampleHealth: () => {
                const p = processSampler().sample();
                return { lagP99Ms: p.eventLoopLagP99Ms, cpuPct: p.cpuPct };
              },
            }),
      },
      (s) =>
        process.stderr.write(
          `step ${s.users} users: ${s.ok ? "ok" : "FAILED"} ${s.slos.map((x) => `${x.expr}=${x.actual ?? "-"}`).join(" ")}${s.health.limited ? ` (generator-limited: ${s.health.limited})` : ""}\n`,
        ),
    );
    if (v.report) writeFileSync(v.report, renderCapacityReport(r));
    process.stdout.write((v.json ? JSON.stringify({ ...r, run: undefined }) : formatCapacity(r)) + "\n");
    if (v.report) process.stderr.write(`report: ${v.report}\n`);
    return r.generatorLimited ? 1 : r.capacity === 0 ? 3 : 0;
  } finally {
    await closeQuietly(node);
  }
}
