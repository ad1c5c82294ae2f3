/**
 * The master's one way to send commands: to each node in parallel, addressed to the process (boot ID) the
 * master knows under that name and to this cluster, with one entry per node whether it answered or not. A reply
 * is checked against its command's reply type (protocol/commands.ts) before anyone reads it.
 */
import { errorMessage } from "../../errors.js";
import type { ClusterBus } from "../bus.js";
import type { Membership } from "../membership.js";
import {
  address,
  checkReply,
  decode,
  encode,
  type CommandOf,
  type CommandType,
  type Reply,
  type ReplyOf,
} from "../protocol.js";
import type { Subjects } from "../subjects.js";
import type { NodeFailure, NodeResult } from "./types.js";

/** The error a node answered a command with (message and hint apart), by its failed result. */
const REFUSALS = new WeakMap<NodeFailure, { code: string; message: string; hint: string }>();

/** The error a node refused a command with, when the failure is its answer (not a timeout). */
export function refusalOf(r: NodeFailure): { code: string; message: string; hint: string } | undefined {
  return REFUSALS.get(r);
}

/** What sending needs. */
export interface BroadcastDeps {
  bus: ClusterBus;
  subjects: Subjects;
  membership: Membership;
}

/** Sends `make(node)` to every node in parallel and collects the answers, typed by the command's type. */
export async function broadcast<K extends CommandType>(
  d: BroadcastDeps,
  nodes: string[],
  make: (node: string) => CommandOf<K>,
  timeoutMs: number,
): Promise<Record<string, NodeResult<ReplyOf[K]>>> {
  const out: Record<string, NodeResult<ReplyOf[K]>> = {};
  await Promise.all(
    nodes.map(async (node) => {
      // addressed to the process this master knows under the name: a namesake that joined later does not act on it
      const boot = d.membership.get(node)?.boot;
      if (boot === undefined) {
        out[node] = { ok: false, error: `${node} is not live` };
        return;
      }
      const cmd = make(node);
      try {
        const raw = await d.bus.request(
          d.subjects.command(node),
          encode(address(cmd, d.subjects.cluster, boot)),
          timeoutMs,
        );
        const r = decode<Reply>(raw, ["reply"]);
        if (!r.ok) out[node] = { ok: false, error: `malformed reply: ${r.reason}` };
        else if (r.msg.ok) {
          const c = checkReply(cmd.type as K, r.msg.result ?? {});
          out[node] = c.ok ? { ok: true, result: c.reply } : { ok: false, error: `malformed reply: ${c.reason}` };
        } else {
          const f: NodeFailure = {
            ok: false,
            error: `${r.msg.error.message}${r.msg.error.hint ? ` (hint: ${r.msg.error.hint})` : ""}`,
            code: r.msg.error.code,
          };
          REFUSALS.set(f, r.msg.error);
          out[node] = f;
        }
      } catch (e) {
        out[node] = { ok: false, error: errorMessage(e) };
      }
    }),
  );
  return out;
}

/** The names of the nodes whose result is a failure. */
export function failedNodes(results: Record<string, { ok: boolean }>): string[] {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n]) => n)
    .sort();
}

/** Each failed node with its error, on one line. */
export function describeFailures(results: Record<string, NodeResult<unknown>>): string {
  return Object.entries(results)
    .flatMap(([n, r]) => (r.ok ? [] : [`${n}: ${r.error}`]))
    .join("; ");
}
