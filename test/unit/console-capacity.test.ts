import { rmSync } from "node:fs";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { localApi } from "../../src/api/console/local-binding.js";
import { capacityModel } from "../helpers/capacity-model.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

type Fn = (...a: unknown[]) => Promise<unknown>;

describe("the console's capacity search", () => {
  it("amoc_local.capacity starts a search, capacity_status shows its steps, capacity_wait prints the capacity", async () => {
    const m = capacityModel({ knee: 200 });
    dirs.push(m.dir);
    const c = localApi(m.api) as Record<string, Fn>;
    expect(inspect(await c.capacity_status!())).toMatch(/no capacity search yet/);
    const started = await m.until(
      c.capacity!("dummy", { slos: ["xmpp.connection.p99<1000"], start: 100, step: 100, hold: "5s" }),
    );
    expect(inspect(started)).toMatch(/capacity search started: dummy, run run-1/);
    await m.clock.advance(7000);
    expect(inspect(await c.capacity_status!())).toMatch(
      /capacity search running: dummy, run run-1\nstep 100 users: ok/,
    );
    const done = inspect(await m.until(c.capacity_wait!()));
    expect(done).toMatch(/capacity: 200 users/);
    expect(done).toMatch(/broke first: xmpp\.connection\.p99<1000/);
    await expect(c.capacity!("dummy", { slos: [] })).rejects.toThrow(/at least one --slo/);
  });
});
