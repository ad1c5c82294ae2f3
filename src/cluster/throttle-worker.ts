/**
 * The worker side of cluster-wide throttles: follows the master's split (this node's fraction of every rate) and
 * serves throttle ops (change_rate, pause, ...) on its own subject. Until the first split a worker paces nothing,
 * so a cluster never runs above the asked rate while it learns its share.
 */
import { applyThrottleOp, type ThrottleOp, type ThrottleRegistry } from "../throttle/throttle.js";
import { AmocError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { ClusterBus } from "./bus.js";
import { decode, encode, type Reply, type ThrottleCmd, type ThrottleSplitMsg } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** Follows splits and serves ops until the returned function is called. */
export function followThrottles(d: {
  bus: ClusterBus;
  subjects: Subjects;
  nodeName: string;
  throttles: ThrottleRegistry;
  log: Logger;
}): () => void {
  d.throttles.setFraction(0);
  let seq = -1;
  let master = "";
  const offSplit = d.bus.subscribe(d.subjects.throttleSplit(), (data) => {
    const r = decode<ThrottleSplitMsg>(data, ["throttle_split"]);
    if (!r.ok) return;
    // a new master restarts the sequence
    if (r.msg.from === master && r.msg.seq <= seq) return;
    master = r.msg.from;
    seq = r.msg.seq;
    const f = r.msg.fractions[d.nodeName] ?? 0;
    const groups: Record<string, number> = {};
    for (const [name, g] of Object.entries(r.msg.groups ?? {})) {
      const mine = (g as Record<string, unknown>)[d.nodeName];
      if (typeof mine === "number" && mine >= 0 && mine <= 1) groups[name] = mine;
    }
    if (f !== d.throttles.share) d.log.info({ msg: "throttle_share", share: Math.round(f * 10_000) / 10_000, master });
    d.throttles.setFraction(f, groups);
  });
  const offCmd = d.bus.subscribe(d.subjects.throttleCommand(d.nodeName), (data, respond) => {
    const r = decode<ThrottleCmd>(data, ["throttle"]);
    const reply = (
      body: { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; hint: string } },
    ) => respond?.(encode({ v: 1, type: "reply", from: d.nodeName, ...body } as Reply));
    if (!r.ok)
      return reply({
        ok: false,
        error: { code: "CLUSTER_PROTOCOL", message: `rejected: ${r.reason}`, hint: "send a valid throttle op" },
      });
    try {
      reply({ ok: true, result: applyThrottleOp(d.throttles, r.msg.op as unknown as ThrottleOp) });
    } catch (e) {
      reply({
        ok: false,
        error:
          e instanceof AmocError
            ? e.toJSON()
            : { code: "CLUSTER_NODE_FAILED", message: errorMessage(e), hint: "see the node's log" },
      });
    }
  });
  return () => {
    offSplit();
    offCmd();
  };
}
