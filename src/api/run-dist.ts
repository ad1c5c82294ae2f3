/** `amoc run --dist`: this node masters one cluster run: waits for the workers, deals the users, waits, stops, sums up. */
import { joinCluster } from "../cluster/cluster-node.js";
import type { AmocNode } from "../main.js";
import { nowMs } from "../controller/controller.js";
import type { RunSummary } from "./format.js";
import type { RunOptions } from "./run-command.js";

const WORKERS_TIMEOUT_MS = 30_000;

/** Runs the scenario over the cluster; the summary gains per-node counts. */
export async function runDist(node: AmocNode, o: RunOptions, progress: NodeJS.WriteStream | undefined): Promise<{ summary: RunSummary; exitCode: number }> {
  const cluster = await joinCluster(node, "master");
  node.onClose(() => cluster.close());
  const master = cluster.master!;
  await master.waitForWorkers(o.workers, WORKERS_TIMEOUT_MS);
  const t0 = nowMs();
  await master.do(o.scenario, o.from, o.from + o.users - 1, { settings: o.settings });
  const deadline = o.durationS === undefined ? Infinity : Date.now() + o.durationS * 1000;
  let interrupted = false;
  const onSigint = () => (interrupted = true);
  process.once("SIGINT", onSigint);
  for (;;) {
    const st = (await master.status()) as { users: { running: number; started: number; finished: number; crashed: number; pending: number } };
    progress?.write(`\r\x1b[Krunning ${st.users.running}  started ${st.users.started}/${o.users}  finished ${st.users.finished}  crashed ${st.users.crashed}`);
    if ((st.users.running === 0 && st.users.pending === 0 && st.users.started > 0) || Date.now() >= deadline || interrupted) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  process.removeListener("SIGINT", onSigint);
  progress?.write("\r\x1b[K");
  const stopped = (await master.stop()) as { users: Record<string, number>; nodes: Record<string, { ok: boolean; result?: Record<string, unknown>; error?: string }> };
  const nodes: NonNullable<RunSummary["nodes"]> = {};
  const errors: RunSummary["errors"] = [];
  for (const [name, r] of Object.entries(stopped.nodes)) {
    const u = (r.ok ? (r.result?.users as Record<string, number>) : undefined) ?? {};
    nodes[name] = { started: u.started ?? 0, finished: u.finished ?? 0, crashed: u.crashed ?? 0, running: u.running ?? 0 };
    if (r.ok) for (const e of (r.result?.errors as RunSummary["errors"]) ?? []) errors.push(e);
    else errors.push({ phase: "cluster", message: `${name}: ${r.error}`, count: 1 });
  }
  // the workers' view of the settings: parsed and complete (defaults included), unlike the raw flags
  const firstOk = Object.values(stopped.nodes).find((r) => r.ok);
  const u = stopped.users;
  const summary: RunSummary = {
    scenario: o.scenario,
    users: { running: u.running ?? 0, started: u.started ?? 0, finished: u.finished ?? 0, crashed: u.crashed ?? 0, removed: u.removed ?? 0 },
    duration_ms: Math.round(nowMs() - t0),
    settings: (firstOk?.result?.settings as Record<string, unknown>) ?? o.settings,
    errors,
    metrics: {},
    nodes,
  };
  const exitCode = interrupted ? 130 : summary.users.crashed > 0 && !o.allowCrashes ? 1 : 0;
  return { summary, exitCode };
}
