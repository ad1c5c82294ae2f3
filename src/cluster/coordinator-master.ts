/**
 * The master side of the cluster-wide coordinator: one hub for every node's users. Workers publish a message per
 * join and per leave on the coordinator subject; a released group goes to each node holding members of it, once.
 * Members of a node that dies or leaves are taken out of the forming groups.
 */
import { CoordinatorHub, groupSpec, type HubMember } from "../coordinator/coordinator.js";
import type { Logger } from "../log.js";
import type { ClusterBus } from "./bus.js";
import type { Membership } from "./membership.js";
import { decode, encode, type CoordinateMsg } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** Runs the hub on the master. */
export class CoordinatorMaster {
  private readonly hub: CoordinatorHub;
  private off: (() => void) | undefined;
  private rejected = 0;

  constructor(
    private readonly d: { bus: ClusterBus; subjects: Subjects; membership: Membership; nodeName: string; log: Logger },
  ) {
    this.hub = new CoordinatorHub((name, members) => this.release(name, members));
  }

  start(): this {
    this.off = this.d.bus.subscribe(this.d.subjects.coordinator(), (data) => this.onMessage(data));
    const gone = (node: string) => {
      const n = this.hub.leaveNode(node);
      if (n) this.d.log.warn({ msg: "coordinator_members_dropped", node, members: n });
    };
    this.d.membership.onDown(gone);
    this.d.membership.onLeft(gone);
    return this;
  }

  private onMessage(data: string): void {
    const r = decode<CoordinateMsg>(data, ["coordinate"]);
    const b = r.ok ? r.msg.body : undefined;
    try {
      if (!b || typeof b.name !== "string") throw new Error(r.ok ? "no group name" : r.reason);
      if (b.op === "join") {
        const m = b.member as HubMember | undefined;
        if (!m || !Number.isSafeInteger(m.id) || typeof m.node !== "string")
          throw new Error("join without a valid member");
        this.hub.join(b.name, groupSpec(b.spec as never), { id: m.id, value: m.value ?? null, node: m.node });
      } else if (b.op === "leave") {
        if (!Number.isSafeInteger(b.id)) throw new Error("leave without an id");
        this.hub.leave(b.name, b.id as number);
      } else throw new Error(`unknown op ${JSON.stringify(b.op)}`);
    } catch (e) {
      if (this.rejected++ < 100) this.d.log.warn({ msg: "coordinator_message_rejected", reason: (e as Error).message });
    }
  }

  private release(name: string, members: HubMember[]): void {
    const nodes = new Set(members.map((m) => m.node));
    const msg = encode({ v: 1, type: "coordinate", from: this.d.nodeName, body: { op: "release", name, members } });
    for (const n of nodes) this.d.bus.publish(this.d.subjects.coordinatorNode(n), msg);
  }

  stop(): void {
    this.off?.();
    this.hub.clear();
  }
}
