/** `amoc status [--name N] [--json]`: exit 0 when the node is up (state, users, scenario), 3 when it is not running. */
import type { StatusReport } from "../../controller/types.js";
import { AmocError } from "../../errors.js";
import type { ApiStatus } from "../../node/node-api.js";
import { NodeUnresponsiveError } from "../../node/daemon-errors.js";
import { request, SocketUnreachable } from "../attach/client.js";
import type { StatusReply } from "../attach/protocol.js";
import { parseArgs, requireRunning, resolveTarget, timeoutMs } from "../attach/target.js";
import { formatStatus } from "../format.js";
import { remoteStatus, RemoteError } from "../rest/client.js";
import { clientToken } from "../rest/client-token.js";

export const STATUS_USAGE = `usage: amoc status [--name N] [--json] [--timeout S]
       amoc status --url URL [--token-file FILE] [--json]
  the state, scenario and users of the running node N; exit 0 when it is up, 3 when it is not running, 1 when it
  does not answer within S seconds (default 10): usable as a health check. --url asks a node's REST API instead
  (token: --token-file FILE, else AMOC_API_TOKEN, else the one a node on this machine wrote for URL's port;
  --token T still works but shows in ps)`;

/** Asks the node over its socket and prints its status. */
export async function statusCommand(args: string[]): Promise<number> {
  const a = parseArgs(args, ["name", "timeout", "url", "token", "token-file"], ["json", "help"], STATUS_USAGE);
  if (a.flags.has("help")) {
    process.stdout.write(STATUS_USAGE + "\n");
    return 0;
  }
  if (a.values.url)
    return remoteStatusCommand(
      a.values.url,
      clientToken({ url: a.values.url, token: a.values.token, tokenFile: a.values["token-file"] }),
      a.flags.has("json"),
    );
  const wait = timeoutMs(a.values.timeout, 10, STATUS_USAGE);
  const t = resolveTarget(a.values.name);
  const pid = requireRunning(t);
  let r: StatusReply;
  try {
    r = await request<StatusReply>(t.dir.socketPath, { op: "status" }, wait);
  } catch (e) {
    if (e instanceof SocketUnreachable) throw new NodeUnresponsiveError(t.name, pid, e.errCode, t.nameFlag);
    throw e;
  }
  const { ok: _ok, ...body } = r;
  if (a.flags.has("json")) process.stdout.write(JSON.stringify(body) + "\n");
  else
    process.stdout.write(
      `${formatStatus(r.status as StatusReport)}\n  process: pid ${r.pid}, ${r.role}, up ${r.uptime_s} s\n  log: ${r.log}\n`,
    );
  return 0;
}

/** `--url`: the node's REST API answers; a node that cannot be reached is "not running" (exit 3) too. */
async function remoteStatusCommand(url: string, token: string | undefined, json: boolean): Promise<number> {
  let s: ApiStatus;
  try {
    s = await remoteStatus(url, token);
  } catch (e) {
    if (e instanceof RemoteError && e.status === 0) throw new AmocError("NODE_NOT_RUNNING", e.message, e.hint);
    throw e;
  }
  if (json) {
    process.stdout.write(JSON.stringify(s) + "\n");
    return 0;
  }
  const lines = [
    `${s.mode} at ${url}: ${s.run ? `${s.run.state} (${s.run.scenario})` : "no run"}; users running ${s.users.running}`,
  ];
  for (const [name, r] of Object.entries(s.nodes))
    lines.push(r.ok ? formatStatus(r.result) : `node ${name}: ${r.error}`);
  process.stdout.write(lines.join("\n") + "\n");
  return 0;
}
