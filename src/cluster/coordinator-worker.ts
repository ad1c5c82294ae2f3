/** The worker side of the cluster-wide coordinator: its users' joins and leaves go to the master's hub over NATS. */
import { CoordinatorWaits, type HubMember } from "../coordinator/coordinator.js";
import type { ClusterBus } from "./bus.js";
import { decode, encode, type CoordinateMsg } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** A coordinator client for this node whose hub is the master's; `close` stops listening. */
export function remoteCoordinator(d: { bus: ClusterBus; subjects: Subjects; nodeName: string }): {
  client: CoordinatorWaits;
  close: () => void;
} {
  const publish = (body: Record<string, unknown>) =>
    d.bus.publish(d.subjects.coordinator(), encode({ v: 1, type: "coordinate", from: d.nodeName, body }));
  const client = new CoordinatorWaits(d.nodeName, {
    join: (name, spec, member) => publish({ op: "join", name, spec, member }),
    leave: (name, id) => publish({ op: "leave", name, id }),
  });
  const off = d.bus.subscribe(d.subjects.coordinatorNode(d.nodeName), (data) => {
    const r = decode<CoordinateMsg>(data, ["coordinate"]);
    if (
      !r.ok ||
      r.msg.body.op !== "release" ||
      typeof r.msg.body.name !== "string" ||
      !Array.isArray(r.msg.body.members)
    )
      return;
    client.released(r.msg.body.name, r.msg.body.members as HubMember[]);
  });
  return { client, close: off };
}
