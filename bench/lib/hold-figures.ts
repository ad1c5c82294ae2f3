/**
 * The figures of bench/hold-38k.sh from its run dir: the peak of amoc-ts's `users.running` gauge (the run store's
 * merged gauge: every worker's value summed per results interval), the ejabberd nodes' own session counts
 * (sessions.txt: one line per second, "<ms> <count per node>"), the `ejabberdctl connected_users_number` cross-check
 * and RSS taken while everybody was online (at-peak.txt). Records them (bench/lib/results.ts), prints them, and
 * exits 1 unless 0 users crashed and both peaks reach the users asked for.
 *
 *   node --import tsx bench/lib/hold-figures.ts RUN_DIR USERS "LOAD_BEFORE" COMMAND PROCS "NODE..." "PORT..."
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { recordFigures, type BenchFigure } from "./results.js";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const [dir, usersArg, load, command, procsArg, nodesArg, portsArg] = process.argv.slice(2);
if (!dir || !usersArg || load === undefined || !command || !procsArg || !nodesArg || !portsArg)
  throw new Error('usage: hold-figures.ts RUN_DIR USERS "LOAD_BEFORE" COMMAND PROCS "NODE..." "PORT..."');
const users = Number(usersArg);
const procs = Number(procsArg);
const nodes = nodesArg.split(" ");
const ports = portsArg.split(" ");

interface Summary {
  run_id: string;
  users: { started: number; crashed: number };
  errors: unknown[];
  metrics: Record<string, { count?: number; mean?: number; p99?: number }>;
  nodes: Record<string, { started: number; crashed: number }>;
}
const summary = JSON.parse(readFileSync(`${dir}/summary.json`, "utf8")) as Summary;
const shown = JSON.parse(
  execFileSync(`${ROOT}/bin/amoc`, ["runs", "show", summary.run_id, "--json"], { cwd: ROOT, encoding: "utf8" }),
) as { metrics: Record<string, { kind: string; max?: number }> };
const gaugePeak = shown.metrics["users.running"]?.max ?? 0;

// the servers' own counts: the peak of their sum at one sample, and each node's count at that sample and its own peak
const samples = readFileSync(`${dir}/sessions.txt`, "utf8")
  .split("\n")
  .filter((l) => /^\d+( -?\d+)+$/.test(l.trim()))
  .map((l) => l.trim().split(" ").slice(1).map(Number));
let atPeak: number[] = nodes.map(() => 0);
for (const s of samples) if (sum(s) > sum(atPeak)) atPeak = s;
const ownPeaks = nodes.map((_, i) => Math.max(0, ...samples.map((s) => s[i] ?? 0)));
const serverPeak = sum(atPeak);
const unanswered = samples.filter((s) => s.some((c) => c < 0)).length;

const peakLines = readFileSync(`${dir}/at-peak.txt`, "utf8").split("\n");
const ctl = nodes.map((n) => {
  const m = new RegExp(`^ejabberdctl ${n} (\\d+)$`).exec(
    peakLines.find((l) => l.startsWith(`ejabberdctl ${n} `)) ?? "",
  );
  return m ? Number(m[1]) : NaN;
});
const rss = peakLines
  .filter((l) => l.startsWith("rss "))
  .map((l) => l.split(" "))
  .map(([, , kb, ...what]) => `${what.join(" ").replace("sname ", "")} ${Math.round(Number(kb) / 1024)} MB`);

function sum(a: number[]): number {
  return a.reduce((x, y) => x + Math.max(0, y), 0);
}
const fmt = (n: number) => n.toLocaleString("en-US");

const reasons: string[] = [];
if (summary.users.crashed !== 0) reasons.push(`${summary.users.crashed} users crashed`);
if (gaugePeak < users) reasons.push(`amoc-ts's gauge peaked at ${gaugePeak} < ${users}`);
if (serverPeak < users) reasons.push(`the servers' sessions peaked at ${serverPeak} < ${users}`);
const k = `hold.${users}`;
const conn = summary.metrics["xmpp.connection"];
const perServer = nodes.map((n, i) => `${fmt(atPeak[i] ?? 0)} on ${n.split("@")[0]} (port ${ports[i]})`).join(", ");
const figures: BenchFigure[] = [
  {
    figure: `${k}.passed`,
    value: reasons.length === 0,
    unit: "",
    command,
    what: `checks: 0 crashed, and ${fmt(users)} online at once both by amoc-ts's gauge and by the servers' own counts`,
    detail: { reasons },
  },
  {
    figure: `${k}.peak_gauge`,
    value: gaugePeak,
    unit: "users",
    command,
    what: `peak of users online at the same moment, amoc-ts's users.running gauge summed over the ${procs} worker processes (worker --procs ${procs}, one per core) per 1 s results interval; the generator's side`,
    detail: { run_id: summary.run_id, nodes: summary.nodes },
  },
  {
    figure: `${k}.peak_servers`,
    value: serverPeak,
    unit: "sessions",
    command,
    what: `peak of the ${nodes.length} ejabberd 23.01 instances' own session counts summed at one sample (ejabberd_sm:connected_users_number every second): ${perServer}; each instance is one BEAM under a 20,000 open-files limit, the servers' side`,
    detail: { at_peak: atPeak, own_peaks: ownPeaks, samples: samples.length, unanswered },
  },
  {
    figure: `${k}.ejabberdctl`,
    value: ctl.map((c) => (Number.isNaN(c) ? "?" : fmt(c))).join(" + "),
    unit: "sessions",
    command,
    what: `\`ejabberdctl connected_users_number\` of each instance, all ${nodes.length} at once about a third into the 30 s when everybody is online (a cross-check of the sampled counts; on a loaded machine the VMs it boots may answer after the first users closed)`,
  },
  {
    figure: `${k}.crashed`,
    value: summary.users.crashed,
    unit: "users",
    command,
    what: `users crashed of ${fmt(summary.users.started)} started (login failures or timeouts)`,
    detail: { errors: summary.errors },
  },
  {
    figure: `${k}.login`,
    value: Math.round(conn?.mean ?? NaN),
    unit: "ms (mean)",
    command,
    what: `login, TCP connect to session established (p99 ${Math.round(conn?.p99 ?? NaN)} ms)`,
  },
  {
    figure: `${k}.rss`,
    value: rss.join(", "),
    unit: "",
    command,
    what: "RSS of each worker and each ejabberd while everybody was online",
  },
];
recordFigures(figures, load.split(/\s+/).filter(Boolean).map(Number));
for (const f of figures) console.log(`${f.figure}: ${typeof f.value === "boolean" ? f.value : f.value} ${f.unit}`);
if (reasons.length > 0) {
  console.error(`FAILED: ${reasons.join("; ")}`);
  process.exit(1);
}
