/** `amoc capacity SCENARIO`: the capacity search (node/capacity/) on this node, or `--dist` over the cluster. */
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { parseDurationMs } from "../../config/parse.js";
import { UsageError } from "../../errors.js";
import { createNode } from "../../node/amoc-node.js";
import { nodeApis } from "../../node/apis.js";
import { formatCapacity } from "../../node/capacity/format.js";
import { capacityOptions, type CapacityRequest } from "../../node/capacity/request.js";
import { checkCapacityOptions } from "../../node/capacity/search.js";
import { renderCapacityReport } from "../../node/capacity/report.js";
import { closeQuietly } from "./close-quietly.js";

export const CAPACITY_USAGE = `usage: amoc capacity SCENARIO --slo EXPR [--slo EXPR ...] [--start N] [--step N] [--hold DURATION]
                [--max N] [--by users|rate] [--refine N] [--dist [--workers K]] [--set name=value ...] [--report FILE] [--json]
  raises the load from --start by --step (default 100 and 100; users online, or with --by rate users started per
  second), holds each step (--hold, default 30s), judges every --slo on that step's window
  ('xmpp.connection.p99<1000', 'users.crashed==0'), stops at the first failing step (or --max, default 100000),
  with --refine N bisects between the last good and the first bad step down to N, and prints the capacity (the
  largest passing level), the SLO that broke first, and the generator's health per step (a step limited by the
  generator is reported as such). Stored as a run of kind capacity (amoc runs, runs compare, report).
  Exit 0 with a capacity, 3 when even the first step failed, 1 when the generator limited the result.`;

const num = (name: string, v: string | undefined, min = 1) => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be a ${min ? "positive " : ""}whole number, not '${v}'`, CAPACITY_USAGE);
  return n;
};

export async function capacityCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(CAPACITY_USAGE + "\n");
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        start: { type: "string" },
        step: { type: "string" },
        hold: { type: "string" },
        max: { type: "string" },
        by: { type: "string" },
        slo: { type: "string", multiple: true },
        refine: { type: "string" },
        dist: { type: "boolean" },
        workers: { type: "string" },
        set: { type: "string", multiple: true },
        report: { type: "string" },
        json: { type: "boolean" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, CAPACITY_USAGE);
  }
  const { values: v, positionals } = parsed;
  const scenario = positionals[0];
  if (!scenario || positionals.length > 1) throw new UsageError("name one scenario", CAPACITY_USAGE);
  if (v.by !== undefined && v.by !== "users" && v.by !== "rate")
    throw new UsageError(`--by must be users or rate, not '${v.by}'`, CAPACITY_USAGE);
  if (v.hold !== undefined && parseDurationMs(v.hold, "s") === undefined)
    throw new UsageError(`--hold must be a duration like 30s, not '${v.hold}'`, CAPACITY_USAGE);
  const settings: Record<string, unknown> = {};
  for (const kv of v.set ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set needs name=value, not '${kv}'`, CAPACITY_USAGE);
    settings[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const req: CapacityRequest = {
    scenario,
    slos: v.slo ?? [],
    settings,
    ...(v.by ? { by: v.by as "users" | "rate" } : {}),
    ...(v.hold ? { hold: v.hold } : {}),
  };
  for (const k of ["start", "step", "max"] as const) {
    const n = num(k, v[k]);
    if (n !== undefined) req[k] = n;
  }
  const refine = num("refine", v.refine, 0);
  if (refine !== undefined) req.refine = refine;
  const workers = num("workers", v.workers) ?? 1;
  const node = createNode({ defaults: { log_level: "warn" } });
  try {
    // every option is checked before anything starts (a cluster is not even waited for)
    checkCapacityOptions(capacityOptions(req, node.settings.results_interval));
    const apis = nodeApis(node);
    const api = v.dist ? apis.dist : apis.local;
    if (v.dist) await api.waitForWorkers(workers, 30_000);
    const unit = v.by === "rate" ? "users/s" : "users";
    await api.startCapacity(req, (s) =>
      process.stderr.write(
        `step ${s.users} ${unit}: ${s.ok ? "ok" : "FAILED"} ${s.slos.map((x) => `${x.expr}=${x.actual ?? "-"}`).join(" ")}${s.health.limited ? ` (generator-limited: ${s.health.limited})` : ""}\n`,
      ),
    );
    const r = await api.capacityResult();
    if (!r) throw new UsageError("the capacity search did not run", CAPACITY_USAGE);
    if (v.report) writeFileSync(v.report, renderCapacityReport(r));
    process.stdout.write((v.json ? JSON.stringify({ ...r, run: undefined }) : formatCapacity(r)) + "\n");
    if (v.report) process.stderr.write(`report: ${v.report}\n`);
    return r.generatorLimited ? 1 : r.capacity === 0 ? 3 : 0;
  } finally {
    await closeQuietly(node);
  }
}
