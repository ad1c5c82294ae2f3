/**
 * The master's one way to send commands: to each node in parallel, addressed to the process (boot ID) the
 * master knows under that name and to this cluster, with one entry per node whether it answered or not.
 */
import { errorMessage } from "../errors.js";
import type { ClusterBus } from "./bus.js";
import type { Membership } from "./membership.js";
import { address, decode, encode, type Command, type Reply } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** One node's answer: its result, or why it failed (a node that does not answer is named, never dropped). */
export type NodeResult =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: string; /** The node's error code, when it answered with one. */ code?: string };

/** The error a node answered a command with (message and hint apart), by its failed result. */
const REFUSALS = new WeakMap<NodeResult, { code: string; message: string; hint: string }>();

/** The error a node refused a command with, when the failure is its answer (not a timeout). */
export function refusalOf(r: NodeResult): { code: string; message: string; hint: string } | undefined {
  return REFUSALS.get(r);
}

/** Sends `make(node)` to every node in parallel and collects the answers. */
export async function broadcast(
  d: { bus: ClusterBus; subjects: Subjects; membership: Membership },
  nodes: string[],
  make: (node: string) => Command,
  timeoutMs: number,
): Promise<Record<string, NodeResult>> {
  const out: Record<string, NodeResult> = {};
  await Promise.all(
    nodes.map(async (node) => {
      // addressed to the process this master knows under the name: a namesake that joined later does not act on it
      const boot = d.membership.get(node)?.boot;
      if (boot === undefined) {
        out[node] = { ok: false, error: `${node} is not live` };
        return;
      }
      try {
        const raw = await d.bus.request(
          d.subjects.command(node),
          encode(address(make(node), d.subjects.cluster, boot)),
          timeoutMs,
        );
        const r = decode<Reply>(raw, ["reply"]);
        if (!r.ok) out[node] = { ok: false, error: `malformed reply: ${r.reason}` };
        else if (r.msg.ok) out[node] = { ok: true, result: (r.msg.result ?? {}) as Record<string, unknown> };
        else {
          const f: NodeResult = {
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
