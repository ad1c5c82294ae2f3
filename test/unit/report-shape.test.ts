import { describe, expect, it } from "vitest";
import { mergeCloseEvents } from "../../src/results/report-data.js";
import { usersAsked } from "../../src/results/report.js";

describe("the report of a shaped run", () => {
  it("says the load shape the run asked for, not the 1 user a stages run's record holds", () => {
    const stages = [
      { duration: "60s", target: 40 },
      { duration: "30s", target: 0 },
    ];
    expect(usersAsked(1, { stages })).toBe("stages (2, peak 40 users)");
    expect(usersAsked(1, { arrival_rate: [{ duration: "1m", target: 5 }] })).toBe(
      "arrival rate (1 stages, peak 5 users/s)",
    );
    expect(usersAsked(20, { stages: [] })).toBe("20 asked");
  });

  it("marks a ramp-down's many close removals as one event, with how many and their sums", () => {
    const removal = (t: number) => ({
      t,
      kind: "remove",
      node: "n1",
      data: { scenario: "dummy", requested: 1, removed: 1, force: false },
    });
    const events = [
      { t: 0, kind: "do", node: "n1", data: { users: 40 } },
      ...Array.from({ length: 40 }, (_, i) => removal(60_000 + i * 500)),
      { t: 95_000, kind: "stop", node: "n1", data: {} },
    ];
    const marks = mergeCloseEvents(events, 5000);
    expect(marks.map((m) => m.kind)).toEqual(["do", "remove", "stop"]);
    expect(marks[1]).toEqual({
      t: 60_000,
      kind: "remove",
      node: "n1",
      text: "remove x40 over 19.5 s scenario=dummy requested=40 removed=40 force=false",
    });
    expect(marks[0]?.text).toBe("do users=40");
  });
});
