import { describe, expect, it } from "vitest";
import { SleepQueue } from "../../src/users/sleep-queue.js";
import { FakeClock } from "../helpers/fake-clock.js";

describe("SleepQueue (ctx.sleep's timers)", () => {
  it("ends sleeps of one duration at their own instants, in order, with one clock timer for all of them", async () => {
    const clock = new FakeClock(1000);
    const q = new SleepQueue(clock);
    const ended: Array<[string, number]> = [];
    const sleep = (name: string, ms: number) =>
      q.add(
        ms,
        () => ended.push([name, clock.now()]),
        () => {},
      );
    sleep("a", 100);
    await clock.advance(10);
    sleep("b", 100);
    sleep("c", 100);
    sleep("d", 40);
    expect(clock.pending).toBe(2);
    await clock.advance(200);
    expect(ended).toEqual([
      ["d", 1050],
      ["a", 1100],
      ["b", 1110],
      ["c", 1110],
    ]);
    expect(q.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it("rejects a cancelled sleep at once, ends the others on time, and clears the timer once nothing waits", async () => {
    const clock = new FakeClock(0);
    const q = new SleepQueue(clock);
    const ended: string[] = [];
    const a = q.add(
      500,
      () => ended.push("a"),
      (e) => ended.push(`a: ${e.message}`),
    );
    const b = q.add(
      500,
      () => ended.push("b"),
      (e) => ended.push(`b: ${e.message}`),
    );
    q.cancel(a, new Error("removed"));
    q.cancel(a, new Error("twice"));
    expect(ended).toEqual(["a: removed"]);
    await clock.advance(500);
    expect(ended).toEqual(["a: removed", "b"]);
    q.cancel(b, new Error("too late"));
    const c = q.add(
      0,
      () => ended.push("c"),
      () => {},
    );
    q.cancel(c, new Error("removed"));
    expect(q.size).toBe(0);
    expect(clock.pending).toBe(0);
  });
});
