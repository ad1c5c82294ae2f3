/**
 * A server model for capacity search tests on fake time: a FakeNodeApi whose intervals (one a second) say
 * connections take 5 ms while the load is at most `knee` and 2000 ms beyond. The load is the users the search asked
 * for (start + add - remove), or with `byRate` the size of its last batch (users started in one interval).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Histogram } from "../../src/results/histogram.js";
import { FakeClock } from "./fake-clock.js";
import { FakeNodeApi } from "./fake-node-api.js";

export const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

export function capacityModel(o: {
  knee: number;
  byRate?: boolean;
  exhaustAt?: number;
  dir?: string;
  /** The run samples a server under test whose CPU (cores) is this much per user of the load. */
  serverCpuPerUser?: number;
}) {
  /** The model's knee: a test may change it between searches (a new server version). */
  const server = { knee: o.knee };
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "amoc-cap-"));
  const clock = new FakeClock(T0);
  const api = new FakeNodeApi({ dir, clock, intervalMs: 1000 });
  const load = () => {
    let users = 0;
    let last = 0;
    for (const [name, args] of api.calls) {
      const n = name === "start" ? (args[0] as { users: number }).users : typeof args[0] === "number" ? args[0] : 0;
      if (name === "start" || name === "add") [users, last] = [users + n, n];
      if (name === "remove") users -= n;
      if (name === "stop") [users, last] = [0, 0];
    }
    return o.byRate ? last : users;
  };
  const tick = clock.setInterval(() => {
    const n = load();
    if (!n || api.state !== "running") return;
    const h = new Histogram();
    for (let i = 0; i < 100; i++) h.recordMs(n > server.knee ? 2000 : 5);
    const c: Record<string, number> = { "xmpp.connections": 100 };
    if (o.exhaustAt && n >= o.exhaustAt) c["crash_reasons.connect:EMFILE"] = 3;
    api.emit({
      type: "interval",
      interval: { v: 1, node: "n1", t: clock.now() - 1000, ms: 1000, c, g: {}, h: { "xmpp.connection": h.encode() } },
    });
    if (o.serverCpuPerUser !== undefined)
      api.emit({ type: "sut", sample: { t: clock.now(), values: { "sut.process_cpu": n * o.serverCpuPerUser } } });
  }, 1000);
  /** Moves fake time on until `p` settles. */
  const until = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    let out: { v: T } | { e: unknown } | undefined;
    p.then(
      (v) => ((done = true), (out = { v })),
      (e: unknown) => ((done = true), (out = { e })),
    );
    while (!done) await clock.advance(500);
    if (out && "e" in out) throw out.e;
    return (out as { v: T }).v;
  };
  // a stopped run may start again (the fake's state machine wants idle)
  const rearm = () => (api.state = "idle");
  return { dir, clock, api, server, until, rearm, stopModel: () => clock.clearInterval(tick) };
}
