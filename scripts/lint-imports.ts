/**
 * Enforces docs/architecture.md section 4: dependencies point one way, and each outside system has one adapter.
 * Fails with the offending file, import and rule.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = new URL("..", import.meta.url).pathname;
const SRC = join(ROOT, "src");

/** Which src folders each src folder may import (besides itself and the root files listed in BASE). */
const ALLOWED: Record<string, string[]> = {
  config: [],
  metrics: ["config"],
  scenario: ["config", "metrics"],
  // throttle/ and coordinator/: the node-local halves of amoc_throttle and amoc_coordinator (cluster/ splits them)
  throttle: ["scenario", "config"],
  coordinator: ["scenario"],
  users: ["coordinator", "scenario", "config", "metrics"],
  // shapes/: load shapes (stages, arrival rates) and scenario mixes, turned into start plans
  shapes: ["users", "scenario", "config"],
  controller: ["users", "shapes", "throttle", "coordinator", "scenario", "config", "metrics"],
  xmpp: ["metrics", "config"],
  // amoc-ts/xmppjs: an xmpp.js client set up like the lean one (its templates, errors and metric names)
  xmppjs: ["xmpp", "metrics", "config"],
  results: ["metrics", "config"],
  // workers aggregate and publish intervals, the master merges them
  cluster: ["controller", "users", "shapes", "throttle", "coordinator", "config", "metrics", "results"],
  // sut/: the server under test (its /metrics, ejabberd's API, its process in /proc), sampled into a run's record
  sut: ["results", "metrics", "config"],
  // node/ holds the Node API and AmocNode over cluster, controller, results, scenario (and config, metrics)
  node: ["cluster", "controller", "results", "scenario", "config", "metrics", "sut"],
  // api/ front ends are adapters over the Node API (node/): config for settings, results for formatting and compare
  // tables, scenario for the upload limits REST checks, metrics for the dashboard's process health
  api: ["node", "config", "metrics", "scenario", "results"],
};
/**
 * A type-only import may reach any folder below (the closure of ALLOWED): a type is no runtime coupling, and the
 * shapes a layer shows (a status's user counts) keep their one home instead of being re-exported upwards.
 */
function below(dir: string, seen = new Set<string>()): Set<string> {
  for (const d of ALLOWED[dir] ?? []) if (!seen.has(d)) below(d, seen.add(d));
  return seen;
}
/** Root files importable from anywhere below: they import nothing above. */
const BASE = ["clock.ts", "errors.ts", "log.ts", "source-version.ts", "telemetry.ts"];
/** Outside packages and the only place allowed to import them. */
const ADAPTERS: Array<[RegExp, RegExp, string]> = [
  [/^@xmpp\//, /^src\/xmpp(js)?\//, "only src/xmpp/ and src/xmppjs/ import @xmpp/*"],
  [/^hot-shots$/, /^src\/metrics\/statsd\.ts$/, "only src/metrics/statsd.ts imports hot-shots"],
  [/^@nats-io\//, /^src\/cluster\/nats-[\w-]+\.ts$/, "only src/cluster/nats-*.ts import @nats-io/*"],
  [/^better-sqlite3$/, /^src\/results\/store\.ts$/, "only src/results/store.ts imports better-sqlite3"],
  [/^prom-client$/, /^src\/metrics\/prometheus\.ts$/, "only src/metrics/prometheus.ts imports prom-client"],
];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const problems: string[] = [];
const files = [...walk(SRC), ...walk(join(ROOT, "scenarios"))];
for (const file of files) {
  const rel = relative(ROOT, file);
  const text = readFileSync(file, "utf8");
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s)?[^'"]*?from\s+["']([^"']+)["']/gm)) {
    const typeOnly = m[1] === "import" && m[2] !== undefined;
    const spec = m[3] as string;
    for (const [pkg, where, rule] of ADAPTERS)
      if (pkg.test(spec) && !where.test(rel)) problems.push(`${rel}: imports ${spec}: ${rule}`);
    if (!spec.startsWith(".")) continue;
    const target = relative(ROOT, join(file, "..", spec)).replace(/\.js$/, ".ts");
    if (rel.startsWith("scenarios/")) {
      if (
        target.startsWith("src/") &&
        !["src/scenario/api.ts", "src/xmpp/index.ts", "src/xmppjs/index.ts"].includes(target)
      )
        problems.push(`${rel}: imports ${target}: scenarios import only src/scenario/api.ts and src/xmpp/index.ts`);
      continue;
    }
    const from = rel.split("/")[1] as string;
    const to = target.split("/");
    if (to[0] !== "src") continue;
    if (to.length === 2) {
      // a root file of src: the base files are free; cli.ts and main.ts are the composition root, imported by nobody below
      if (
        !BASE.includes(to[1] as string) &&
        !rel.startsWith("src/cli.ts") &&
        !rel.startsWith("src/main.ts") &&
        from !== "api"
      )
        problems.push(`${rel}: imports ${target}: only the composition root and api/ may import it`);
      continue;
    }
    const toDir = to[1] as string;
    if (rel.split("/").length === 2 || toDir === from) continue; // root files (cli, main) import everything
    if (!(ALLOWED[from] ?? []).includes(toDir) && !(typeOnly && below(from).has(toDir)))
      problems.push(`${rel}: imports ${target}: ${from}/ may not import ${toDir}/ (docs/architecture.md section 4)`);
  }
}
if (problems.length) {
  console.error(`import rules broken:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`import rules: ${files.length} files ok`);
