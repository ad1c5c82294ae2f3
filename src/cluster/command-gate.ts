/**
 * What a worker does with a raw command before acting on it: a command of another cluster, of another protocol
 * version, or addressed to another process under this node's name is not for this process and is ignored (no
 * reply: answering would let a stranger or a namesake drive it); a malformed one of ours is refused with a reason.
 */
import { COMMAND_TYPES, PROTOCOL_VERSION, decode, type Addressed, type Command } from "./protocol.js";

/** The verdict on one raw command. */
export type Screened =
  | { act: "serve"; cmd: Addressed }
  | { act: "ignore"; kind: string; why: string; from: string }
  | { act: "refuse"; reason: string; from: string };

/** Who this process is: its cluster and its boot ID. */
export interface Self {
  cluster: string;
  boot: string;
}

/** Screens one raw command for this process. */
export function screenCommand(raw: string, me: Self): Screened {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { act: "refuse", reason: "not JSON", from: "unknown" };
  }
  const o = typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const from = typeof o.from === "string" ? o.from.slice(0, 64) : "unknown";
  if (o.v !== PROTOCOL_VERSION)
    return {
      act: "ignore",
      kind: "protocol",
      why: `protocol version ${JSON.stringify(o.v)} (this node speaks ${PROTOCOL_VERSION})`,
      from,
    };
  if (typeof o.cluster === "string" && o.cluster !== me.cluster)
    return {
      act: "ignore",
      kind: "cluster",
      why: `cluster ${JSON.stringify(o.cluster.slice(0, 64))} (this node is in ${JSON.stringify(me.cluster)})`,
      from,
    };
  const r = decode<Command>(raw, COMMAND_TYPES);
  if (!r.ok) return { act: "refuse", reason: r.reason, from: r.from ?? from };
  const cmd = r.msg as Addressed;
  if (cmd.to !== me.boot)
    return {
      act: "ignore",
      kind: "boot",
      why: `addressed to process ${JSON.stringify(cmd.to.slice(0, 64))} of this node's name, not to this one (${me.boot}): another process may run under the same name`,
      from,
    };
  return { act: "serve", cmd };
}
