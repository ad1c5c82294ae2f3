/**
 * The run events the live view marks on its charts, read from two consecutive frames (start, stop, users added or
 * removed, settings changed, nodes up or down): every mode's status has what they need, so no event stream is
 * required for them.
 */
import type { FeedEvent, Frame } from "./wire.js";

/** Run events seen between two frames: start, stop, users added or removed, settings changed, nodes up or down. */
export function diffEvents(p: Frame, f: Frame): FeedEvent[] {
  const out: FeedEvent[] = [];
  const t = f.t;
  const running = (x: Frame) => x.run?.state === "running";
  const newRun = f.run && (f.run.run_id !== p.run?.run_id || (!running(p) && running(f)));
  if (newRun && running(f)) out.push({ t, kind: "start", text: `start ${f.run!.scenario}` });
  else {
    if (running(p) && !running(f)) out.push({ t, kind: "stop", text: "stop" });
    const added = (f.run?.last_id ?? 0) - (p.run?.last_id ?? 0);
    if (running(f) && running(p) && added > 0) out.push({ t, kind: "add", text: `add ${added}` });
    if (running(f) && f.users.removed > p.users.removed)
      out.push({ t, kind: "remove", text: `remove ${f.users.removed - p.users.removed}` });
    if (running(f) && p.run && JSON.stringify(p.run.settings) !== JSON.stringify(f.run!.settings))
      out.push({ t, kind: "settings", text: "settings changed" });
  }
  const before = new Map(p.nodes.map((n) => [n.name, n.state]));
  for (const n of f.nodes) {
    const was = before.get(n.name);
    if (n.state === "down" && was !== undefined && was !== "down")
      out.push({ t, kind: "node_down", text: `${n.name} down` });
    if (n.state !== "down" && (was === undefined || was === "down") && p.nodes.length > 0)
      out.push({ t, kind: "node_up", text: `${n.name} up` });
  }
  return out;
}
