/** Checks a NodeSelector against the nodes it may address; an unknown name is NODE_NOT_FOUND (404). */
import { NodeNotFoundError, UsageError } from "../../errors.js";
import type { NodeSelector } from "../node-api.js";

/** A node a selector can match. */
export interface Selectable {
  name: string;
  labels: Record<string, string>;
}

/** The nodes a selector picks out of `all`; names that match none throw NodeNotFoundError. */
export function selectNodes<T extends Selectable>(all: T[], sel: NodeSelector = {}): T[] {
  let out = all;
  if (sel.nodes !== undefined) {
    if (!Array.isArray(sel.nodes) || sel.nodes.some((n) => typeof n !== "string"))
      throw new UsageError("nodes must be a list of node names", "e.g. {nodes: ['worker1']}");
    const unknown = sel.nodes.filter((n) => !all.some((a) => a.name === n));
    if (unknown.length)
      throw new NodeNotFoundError(
        `no live node named ${unknown.join(", ")}`,
        `live nodes: ${all.map((a) => a.name).join(", ") || "none"}`,
      );
    out = out.filter((a) => sel.nodes!.includes(a.name));
  }
  if (sel.labels !== undefined) {
    if (typeof sel.labels !== "object" || sel.labels === null || Array.isArray(sel.labels))
      throw new UsageError("labels must be an object", "e.g. {labels: {zone: 'a'}}");
    out = out.filter((a) => Object.entries(sel.labels!).every(([k, v]) => a.labels[k] === v));
  }
  return out;
}

/** Checks a node name for `nodeStatus`. */
export function requireNode<T extends Selectable>(all: T[], name: string): T {
  const found = all.find((a) => a.name === name);
  if (!found)
    throw new NodeNotFoundError(`no node named '${name}'`, `nodes: ${all.map((a) => a.name).join(", ") || "none"}`);
  return found;
}
