import { describe, expect, it } from "vitest";
import {
  removedWithForce,
  unwatchForcedRemoval,
  watchForcedRemoval,
  type StoppableContext,
} from "../../src/xmpp/forced-removal.js";

/** A user context as the pool drives it: a graceful stop resolves stopped(); a forced one also aborts the signal. */
function fakeUser() {
  const ac = new AbortController();
  let wake: () => void = () => {};
  const stop = new Promise<void>((r) => (wake = r));
  let signalRead = 0;
  const ctx: StoppableContext & { stopping: boolean } = {
    stopping: false,
    get signal() {
      signalRead++;
      return ac.signal;
    },
    stopped: () => stop,
  };
  return {
    ctx,
    signalReads: () => signalRead,
    requestStop: () => ((ctx.stopping = true), wake()),
    abort: () => ((ctx.stopping = true), ac.abort(), wake()),
  };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("forced removal of a user's XMPP session", () => {
  it("ends the current session when the user is removed with force, and reads no signal before", async () => {
    const u = fakeUser();
    const ended: string[] = [];
    watchForcedRemoval(u.ctx, { onForcedRemoval: () => ended.push("first") });
    watchForcedRemoval(u.ctx, { onForcedRemoval: () => ended.push("second") });
    expect(removedWithForce(u.ctx)).toBe(false);
    expect(u.signalReads()).toBe(0);
    u.abort();
    await tick();
    expect(ended).toEqual(["second"]);
    expect(removedWithForce(u.ctx)).toBe(true);
  });

  it("leaves a gracefully stopped user alone, but still ends it if a forced removal follows", async () => {
    const u = fakeUser();
    const ended: string[] = [];
    watchForcedRemoval(u.ctx, { onForcedRemoval: () => ended.push("s") });
    u.requestStop();
    await tick();
    expect(ended).toEqual([]);
    expect(removedWithForce(u.ctx)).toBe(false);
    u.abort();
    await tick();
    expect(ended).toEqual(["s"]);
  });

  it("does nothing for a session that was unwatched (closed)", async () => {
    const u = fakeUser();
    const ended: string[] = [];
    const s = { onForcedRemoval: () => ended.push("s") };
    watchForcedRemoval(u.ctx, s);
    unwatchForcedRemoval(u.ctx, s);
    u.abort();
    await tick();
    expect(ended).toEqual([]);
  });
});
