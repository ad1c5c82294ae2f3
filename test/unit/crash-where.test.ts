import { describe, expect, it } from "vitest";
import { formatSummary } from "../../src/api/format.js";
import { silentLogger } from "../../src/log.js";
import type { RunSummary } from "../../src/node/node-api.js";
import { CrashTally } from "../../src/users/crash-tally.js";
import { crashWhere } from "../../src/users/crash-where.js";

const OWN = new URL("../../src/", import.meta.url).pathname;

/** An error as a scenario under tsx throws it: the frames already mapped back to the .ts source. */
function thrownAt(...frames: string[]): Error {
  const e = new TypeError("Cannot read properties of undefined (reading 'foo')");
  e.stack = [`TypeError: ${e.message}`, ...frames.map((f) => `    at ${f}`)].join("\n");
  return e;
}

describe("crashes say where in the scenario", () => {
  it("takes the first frame outside amoc's code, Node and node_modules, relative to the working directory", () => {
    const e = thrownAt(
      `XmppUser.waitFor (${OWN}xmpp/xmpp-user.ts:200:11)`,
      "process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
      "Object.transformer (/x/node_modules/tsx/dist/register.cjs:22:2188)",
      "async start (/home/me/load/muc_echo.ts:14:22)",
      `async UserActor.run (${OWN}users/user-actor.ts:80:7)`,
    );
    expect(crashWhere(e, "/home/me/load")).toBe("muc_echo.ts:14:22");
    expect(crashWhere(e, "/elsewhere")).toBe("/home/me/load/muc_echo.ts:14:22");
    expect(crashWhere(thrownAt("file:///srv/up/abc.ts?v=1:3:4"), "/")).toBe("srv/up/abc.ts:3:4");
  });

  it("says nothing when no frame is the scenario's (a timer of amoc's own) or there is no stack", () => {
    expect(
      crashWhere(
        thrownAt(`Timeout._onTimeout (${OWN}xmpp/xmpp-user.ts:220:20)`, "listOnTimeout (node:internal/timers:573:17)"),
      ),
    ).toBeUndefined();
    expect(crashWhere("a string")).toBeUndefined();
  });

  it("keeps the first example's place per reason, in the summary and its printed form", () => {
    const tally = new CrashTally(silentLogger());
    tally.record(1, "start", thrownAt("start (/s/te.ts:11:37)"), 1000);
    tally.record(2, "start", thrownAt("start (/s/te.ts:99:1)"), 2000);
    const [e] = tally.summary();
    expect(e).toMatchObject({ count: 2, where: expect.stringMatching(/te\.ts:11:37$/) });
    const summary = {
      scenario: "te",
      duration_ms: 1,
      users: { started: 2, finished: 0, crashed: 2, removed: 0, running: 0 },
      settings: {},
      metrics: {},
      errors: tally.summary(),
    } as unknown as RunSummary;
    expect(formatSummary(summary)).toMatch(
      /e\.g\. Cannot read properties of undefined \(reading 'foo'\) at .*te\.ts:11:37/,
    );
  });
});
