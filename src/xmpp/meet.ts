/** Pairing users for scenarios: neighbours by ID, and meeting by directed presence so nobody sends to a user offline. */
import { is } from "./stanzas.js";
import type { XmppUser } from "./xmpp-user.js";

/** The user `id` pairs with: 1<->2, 3<->4, ... */
export function neighbourOf(id: number): number {
  return id % 2 === 1 ? id + 1 : id - 1;
}

/**
 * Resolves once `peer` (a bare JID) is online: sends it directed presence, waits for its presence, and sends ours
 * again (it may have come online after our first). Whoever comes second is heard by the first, which answers.
 */
export async function meetPeer(user: XmppUser, peer: string, timeoutMs: number): Promise<void> {
  await user.sendPresence({ to: peer });
  await user.waitFor(is.presence({ from: peer, type: "available" }), timeoutMs, `presence of ${peer}`);
  await user.sendPresence({ to: peer });
}
