/** `amoc list [--json]`: the detached nodes started on this machine (data directories whose pid is alive). */
import { envValue } from "../../config/load.js";
import { listDataDirs, readMeta } from "../../node/data-dir.js";
import { probeNode } from "../../node/daemon-pid.js";
import { request } from "../attach/client.js";
import type { StatusReply } from "../attach/protocol.js";
import { parseArgs } from "../attach/target.js";

export const LIST_USAGE = `usage: amoc list [--json]
  the nodes started with bin/amoc start on this machine (under AMOC_RUN_DIR or .run, and AMOC_DATA_DIR):
  name, pid, role, state, running users, log`;

/** One live node as listed. */
interface Listed {
  name: string;
  pid: number;
  role: string;
  state: string;
  running: number | null;
  dir: string;
  log: string;
}

/** Lists the live nodes; stale directories are skipped (the next `start` cleans them). */
export async function listCommand(args: string[]): Promise<number> {
  const a = parseArgs(args, [], ["json", "help"], LIST_USAGE);
  if (a.flags.has("help")) {
    process.stdout.write(LIST_USAGE + "\n");
    return 0;
  }
  const rows: Listed[] = [];
  for (const d of listDataDirs(process.env, envValue(process.env, "data_dir")?.value ?? "")) {
    const p = probeNode(d);
    if (p.state !== "running") continue;
    const meta = readMeta(d);
    let state = "not answering";
    let running: number | null = null;
    try {
      const s = await request<StatusReply>(d.socketPath, { op: "status" }, 2000);
      state = s.state;
      running = s.users.running ?? null;
    } catch {
      // listed anyway: the pid lives
    }
    rows.push({
      name: meta?.name ?? d.name,
      pid: p.pid,
      role: meta?.role ?? "?",
      state,
      running,
      dir: d.dir,
      log: meta?.log ?? d.logFile,
    });
  }
  if (a.flags.has("json")) {
    process.stdout.write(JSON.stringify(rows) + "\n");
    return 0;
  }
  if (!rows.length) {
    process.stdout.write("no nodes running (bin/amoc start starts one)\n");
    return 0;
  }
  const w = Math.max(4, ...rows.map((r) => r.name.length));
  process.stdout.write(`${"NAME".padEnd(w)}  ${"PID".padStart(7)}  ROLE     STATE        USERS  LOG\n`);
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(w)}  ${String(r.pid).padStart(7)}  ${r.role.padEnd(7)}  ${r.state.padEnd(11)}  ${String(r.running ?? "-").padStart(5)}  ${r.log}\n`,
    );
  }
  return 0;
}
