/** The live view of a recorded run: the progress line's tail and the status line of the last interval. */
import { describe, expect, it } from "vitest";
import { formatLastInterval } from "../../src/api/format.js";
import { describeLastInterval } from "../../src/api/run/flags.js";

const last = {
  t: Date.UTC(2026, 0, 1, 12, 0, 5),
  ms: 1000,
  rates: { "xmpp.messages_sent": 120, "users.started": 4 },
  p99: { "xmpp.message_ttd": 7.5, "xmpp.connection": 30 },
};

describe("live results", () => {
  it("the progress line shows the last interval's message rate and TTD p99", () => {
    expect(describeLastInterval(last)).toBe("  |  last 1 s: 120 msg/s, TTD p99 7.5 ms");
    expect(describeLastInterval(undefined)).toBe("");
  });

  it("the progress line says nothing of messages until a run sent one, then shows an idle interval as 0", () => {
    const idle = { t: 0, ms: 1000, rates: {}, p99: {} };
    expect(describeLastInterval(idle)).toBe("");
    expect(describeLastInterval(idle, true)).toBe("  |  last 1 s: 0 msg/s, TTD p99 -");
  });

  it("a printed status names the interval and its rates and p99s", () => {
    expect(formatLastInterval(last)).toBe(
      "last interval (12:00:05, 1 s): sent 120/s, TTD p99 7.5 ms, connect p99 30 ms, users started 4/s",
    );
    expect(formatLastInterval(null)).toBe("");
  });
});
