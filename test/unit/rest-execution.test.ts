/**
 * The execution routes over a test Node API (test/helpers/rest-app.ts): bodies passed on, thresholds and the stop's
 * verdict, status codes for wrong states and bad bodies.
 */
import { describe, expect, it } from "vitest";
import { app, fake, patch, useRestApp } from "../helpers/rest-app.js";

useRestApp();

describe("execution routes", () => {
  it("start, add, remove, update_settings and stop pass their bodies to the Node API", async () => {
    fake.state = "idle";
    expect(
      (
        await patch("start", {
          scenario: "dummy",
          users: 5,
          settings: { interarrival: 0 },
          nodes: ["w1"],
          comment: "c",
        })
      ).statusCode,
    ).toBe(200);
    expect((await patch("add_users", { users: 2, labels: { zone: "a" } })).statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual(["add", [2, { labels: { zone: "a" } }]]);
    expect((await patch("remove_users", { users: 1, force: true })).statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual(["remove", [1, { force: true }]]);
    expect((await patch("update_settings", { settings: { dummy_sleep_ms: 5 } })).statusCode).toBe(200);
    expect((await patch("stop")).statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual(["stop", [{}]]);
  });
  it("a start passes its thresholds to the Node API, and the stop's reply carries how the run ended", async () => {
    fake.state = "idle";
    const thresholds = ["xmpp.message_ttd.p99<50", "users.crashed==0"];
    const start = await patch("start", { scenario: "dummy", users: 2, thresholds });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ run_id: expect.any(String), scenario: "dummy" });
    expect(fake.calls.at(-1)).toEqual(["start", [{ scenario: "dummy", users: 2, thresholds }]]);
    fake.nextEnd = {
      verdict: "breached",
      exit_code: 3,
      thresholds: [{ expr: "users.crashed==0", ok: false, actual: 1, message: "users.crashed was 1, wanted == 0" }],
    } as never;
    const stop = await patch("stop", {});
    expect(stop.statusCode).toBe(200);
    expect(stop.json().run).toMatchObject({
      run_id: start.json().run_id,
      verdict: "breached",
      exit_code: 3,
      thresholds: [{ expr: "users.crashed==0", ok: false }],
      summary: { scenario: "dummy" },
    });
    fake.nextEnd = {};
  });
  it("a threshold that is not a string, or an empty one, is 400 before anything starts", async () => {
    fake.state = "idle";
    const before = fake.calls.length;
    expect((await patch("start", { scenario: "dummy", users: 1, thresholds: [5] })).statusCode).toBe(400);
    expect((await patch("start", { scenario: "dummy", users: 1, thresholds: [""] })).statusCode).toBe(400);
    expect(fake.calls.length).toBe(before);
  });
  it("a throttle operation goes to the Node API with its selector apart", async () => {
    const r = await patch("throttle", { op: "change_rate", name: "t", config: { rate: 5 }, nodes: ["w1"] });
    expect(r.statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual([
      "throttle",
      [
        { op: "change_rate", name: "t", config: { rate: 5 } },
        { nodes: ["w1"], labels: undefined },
      ],
    ]);
  });
  it("a command in the wrong state is 409", async () => {
    fake.state = "idle";
    const r = await patch("add_users", { users: 1 });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toBe("STATE_INVALID");
  });
  it("an unknown scenario is 404", async () => {
    fake.state = "idle";
    expect((await patch("start", { scenario: "nope", users: 1 })).statusCode).toBe(404);
  });
  it("a bad body is 400 naming every problem", async () => {
    const r = await patch("start", { scenario: "dummy", users: "3", extra: 1, nodes: "w1" });
    expect(r.statusCode).toBe(400);
    const paths = r.json().problems.map((p: { path: string; message: string }) => `${p.path} ${p.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^body\/users must be integer/),
        expect.stringMatching(/additional properties 'extra'/),
        expect.stringMatching(/^body\/nodes must be array/),
      ]),
    );
    expect((await patch("add_users", {})).json().message).toMatch(/users/);
    expect((await patch("update_settings", { settings: {} })).statusCode).toBe(400);
    expect((await patch("remove_users", { users: 0 })).statusCode).toBe(400);
    expect(
      (
        await app.inject({
          method: "PATCH",
          url: "/execution/start",
          payload: "{nope",
          headers: { "content-type": "application/json" },
        })
      ).statusCode,
    ).toBe(400);
  });
  it("a JSON body sent as a form or as text/plain is 415 naming application/json, and nothing starts", async () => {
    fake.state = "idle";
    const before = fake.calls.length;
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]) {
      const r = await app.inject({
        method: "PATCH",
        url: "/execution/start",
        payload: JSON.stringify({ scenario: "dummy", users: 1 }),
        headers: { "content-type": type },
      });
      expect(r.statusCode).toBe(415);
      expect(r.json().hint).toMatch(/application\/json/);
    }
    expect(fake.calls.length).toBe(before);
  });
  it("a start range of more users than one start may ask for, or a user ID above 10^12, is 400", async () => {
    fake.state = "idle";
    expect((await patch("start", { scenario: "dummy", from: 1, to: 200_000_000 })).statusCode).toBe(400);
    expect((await patch("start", { scenario: "dummy", from: 1, to: 2e12 })).statusCode).toBe(400);
    expect((await patch("start", { scenario: "dummy", users: 1, from: 2e12 })).statusCode).toBe(400);
  });
});
