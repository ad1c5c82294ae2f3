/**
 * Status aggregation: every node's status (a worker of the run that died or left abnormally is listed lost, with
 * what it had done and where its users went, never dropped), the users summed over the nodes, and the problems of
 * this master, its bus and every node.
 */
import type { RunState, WorkerShare } from "../run-state.js";
import { leftResults } from "./run-record.js";
import type { WorkerCounts } from "./worker-counts.js";
import type {
  LostNode,
  MasterCtx,
  NodeEntry,
  NodeProblem,
  NodeResult,
  NodeStatus,
  RunView,
  StatusResult,
  UserTotals,
} from "./types.js";

/**
 * Status is a read: it must not wait the command timeout on a node that just died (across NATS routes a request
 * can still be forwarded to a dead node's server and wait out the whole timeout before interest is withdrawn).
 */
const STATUS_TIMEOUT_MS = 1500;

/** The run and every node's status; nodes of the run that are down are listed as lost. */
export async function clusterStatus(ctx: MasterCtx, counts: WorkerCounts | undefined): Promise<StatusResult> {
  const { d } = ctx;
  await d.membership.warmedUp();
  const cur = await ctx.store.read();
  const run = cur?.run;
  const live = ctx.workers().map((w) => w.from);
  // nodes of the run stay listed after they died, so a dead node is reported, never silently dropped
  const running = run?.state === "running" ? run : undefined;
  const names = [...new Set([...live, ...(running ? Object.keys(running.workers) : [])])].sort();
  const nodes: Record<string, NodeEntry<NodeStatus>> = await ctx.send(
    names.filter((n) => d.membership.isAlive(n)),
    () => ({ v: 1, type: "status", from: d.nodeName }),
    Math.min(d.timeoutMs, STATUS_TIMEOUT_MS),
  );
  const lastOf = (n: string) => counts?.lastCounts(n) ?? null;
  const left = running ? await leftResults(ctx, running, lastOf) : {};
  for (const n of names) {
    if (d.membership.isAlive(n)) continue;
    const share = running?.workers[n];
    if (share?.left) nodes[n] = left[n]!;
    else nodes[n] = lostEntry("down (no heartbeat)", share, lastOf(n));
  }
  return {
    run: run ? runView(ctx, run) : null,
    users: sumUsers(nodes),
    problems: problemList(ctx, nodes),
    nodes,
  };
}

/** A lost worker's entry: why, what it had last reported, and where its users went (none yet: not re-dealt). */
export function lostEntry(error: string, share: WorkerShare | undefined, last: LostNode["last"]): LostNode {
  const to = share?.redealtTo ?? {};
  const redealt = Object.values(to).reduce((s, n) => s + n, 0);
  return {
    ok: false,
    error: `${error}${share?.lost ? `; ${redealt} of its unfinished users were re-dealt to the others` : ""}`,
    lost: true,
    last: share?.last ?? last,
    redealt_to: { ...to },
  };
}

function runView(ctx: MasterCtx, run: RunState): RunView {
  return {
    run_id: run.runId,
    state: run.state,
    scenario: run.scenario,
    ...(run.version ? { version: run.version } : {}),
    master: run.master,
    master_alive: run.master === ctx.d.nodeName || ctx.d.membership.isAlive(run.master),
    from: run.from,
    last_id: run.lastId,
    settings: run.settings,
    lost_nodes: Object.entries(run.workers)
      .filter(([, s]) => s.lost)
      .map(([n]) => n),
    left_nodes: Object.entries(run.workers)
      .filter(([, s]) => s.left)
      .map(([n]) => n),
  };
}

/** This master's problems, its bus's, and those each node reported (replies are checked: problems are well-formed). */
export function problemList(ctx: MasterCtx, nodes: Record<string, NodeEntry<NodeStatus>>): NodeProblem[] {
  const me = ctx.d.nodeName;
  const out: NodeProblem[] = ctx.problems.list().map((p) => ({ node: me, ...p }));
  for (const p of ctx.d.bus.problems())
    out.push({
      node: me,
      kind: "nats_subscription_error",
      message: `${p.subject}: ${p.error}`,
      affects: "messages on this subject are lost",
      count: p.count,
    });
  for (const [node, r] of Object.entries(nodes))
    if (r.ok && "problems" in r.result) for (const p of r.result.problems) out.push({ ...p, node });
  return out;
}

/** Sums the user counts of the nodes that answered (and of those that left with their final counts). */
export function sumUsers(nodes: Record<string, NodeResult<{ users?: Partial<UserTotals> }> | LostNode>): UserTotals {
  const t: UserTotals = { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0 };
  for (const r of Object.values(nodes)) {
    const u = r.ok ? r.result.users : undefined;
    if (u) for (const k of Object.keys(t) as Array<keyof UserTotals>) t[k] += u[k] ?? 0;
  }
  return t;
}
