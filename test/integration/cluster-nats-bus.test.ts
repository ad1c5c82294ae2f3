/** The NATS adapter against a real nats-server: nothing it meets outside a call is swallowed. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterBus } from "../../src/cluster/bus.js";
import { connectBus } from "../../src/cluster/nats-bus.js";
import { loadNodeSettings } from "../../src/config/load.js";
import { memoryLogger } from "../helpers/fake-cluster.js";
import { NatsCluster } from "../helpers/nats-cluster.js";
import { until } from "../helpers/wait.js";

let nats: NatsCluster;
let bus: ClusterBus | undefined;
const AUTH = `authorization { users = [ { user: amoc, password: s3cret, permissions: { subscribe: { deny: ["forbidden.>"] } } } ] }`;

beforeAll(async () => {
  nats = await NatsCluster.start(1, AUTH);
}, 60_000);
afterAll(async () => {
  await bus?.close();
  await nats?.stop();
});

describe("the NATS bus", () => {
  it("a subscription error is logged once with what it affects, counted, and listed in problems()", async () => {
    const settings = loadNodeSettings({
      env: {
        AMOC_NATS_URL: nats.urls.join(","),
        AMOC_NATS_USER: "amoc",
        AMOC_NATS_PASSWORD: "s3cret",
        AMOC_NODE_NAME: "t1",
      },
    });
    const { log, lines } = memoryLogger();
    bus = await connectBus(settings, "t_state", log);
    const got: string[] = [];
    bus.subscribe("forbidden.cmd.w1", (d) => got.push(d));
    await bus.flush().catch(() => undefined);
    await until(() => bus!.problems().length > 0, 10_000, "the permissions violation reported");
    expect(bus.problems()).toEqual([
      { subject: "forbidden.cmd.w1", error: expect.stringMatching(/permission/i) as unknown, count: 1 },
    ]);
    const logged = lines.filter((l) => l.msg === "nats_subscription_error");
    expect(logged).toEqual([
      expect.objectContaining({
        subject: "forbidden.cmd.w1",
        affects: expect.stringMatching(/not received/) as unknown,
      }),
    ]);
    expect(got).toEqual([]);
  }, 30_000);
});
