/**
 * Scenario upload over the REST routes (test/helpers/rest-app.ts): versions, load errors named by place, name and
 * size limits.
 */
import { describe, expect, it } from "vitest";
import { app, fake, GOOD, patch, upload, useRestApp } from "../helpers/rest-app.js";

useRestApp();

describe("scenario upload", () => {
  it("accepts TypeScript with no content type, lists it with its version, and gives its info", async () => {
    const r = await upload("up_one", GOOD);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ compile: "ok", name: "up_one", unchanged: false });
    expect(body.version).toMatch(/^[0-9a-f]{16}$/);
    const list = (await app.inject("/scenarios")).json();
    expect(list.scenarios).toContain("dummy");
    expect(list.scenarios.at(-1)).toBe("up_one");
    expect(list.details).toContainEqual({ name: "up_one", source: "uploaded", version: body.version });
    const info = (await app.inject("/scenarios/info/up_one")).json();
    expect(info).toMatchObject({ name: "up_one", source: "uploaded", version: body.version });
    expect((await app.inject("/scenarios/defaults/up_one")).json()).toEqual({ settings: { rounds: 2 } });
  });
  it("takes any content type, JSON included, as source; the same source again is unchanged", async () => {
    const r = await upload("up_one", GOOD, { "content-type": "application/json" });
    expect(r.statusCode).toBe(200);
    expect(r.json().unchanged).toBe(true);
  });
  it("a re-upload makes a new version that the next start uses; the start names the scenario, never a file", async () => {
    const v1 = (await upload("up_two", GOOD)).json().version;
    const v2 = (await upload("up_two", GOOD.replace("default: 2", "default: 3"))).json().version;
    expect(v2).not.toBe(v1);
    fake.state = "idle";
    const r = await patch("start", { scenario: "up_two", users: 3 });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ scenario: "up_two", version: v2, run_id: expect.any(String) });
    expect(fake.calls.at(-1)![1][0]).toEqual({ scenario: "up_two", users: 3 });
    fake.state = "idle";
  });
  it("a syntax error is a 400 with file, line and column", async () => {
    const r = await upload("bad_syntax", "export async function start() {\n  const x: number = ;\n}\n");
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe("UPLOAD_INVALID");
    expect(r.json().problems[0]).toMatchObject({ file: "bad_syntax.ts", line: 2, column: 21 });
  });
  it("a missing start export and a default failing verify are each named", async () => {
    const src = `import { defineVariables } from "amoc-ts";\nexport const variables = defineVariables({ n: { default: -1, doc: "n", verify: (v: number) => v > 0 || "must be > 0" } });\n`;
    const r = await upload("no_start", src);
    expect(r.statusCode).toBe(400);
    const msgs = r
      .json()
      .problems.map((p: { message: string }) => p.message)
      .join("\n");
    expect(msgs).toMatch(/no `start` export/);
    expect(msgs).toMatch(/variable 'n'.*must be > 0/);
  });
  it("relative and unknown imports are 400s naming the import and its place", async () => {
    const r = await upload(
      "rel_import",
      `import { x } from "./helpers.js";\nexport async function start() { return x; }\n`,
    );
    expect(r.statusCode).toBe(400);
    expect(r.json().problems[0]).toMatchObject({ line: 1, message: expect.stringContaining("'./helpers.js'") });
    const u = await upload(
      "pkg_import",
      `\n\nimport y from "left-pad-nope";\nexport async function start() { return y; }\n`,
    );
    expect(u.statusCode).toBe(400);
    expect(u.json().problems[0]).toMatchObject({
      line: 3,
      message: expect.stringContaining("'left-pad-nope' does not resolve"),
    });
  });
  it("a top-level throw is a 400 with the loading error", async () => {
    const r = await upload("throws", `export async function start() {}\nthrow new Error("boom at load");\n`);
    expect(r.statusCode).toBe(400);
    expect(r.json().problems[0].message).toMatch(/boom at load/);
  });
  it("names with paths, dots or nothing are 400; a built-in name is refused", async () => {
    for (const name of ["../x", "a.b", "", "a-b"]) {
      const r = await upload(name, GOOD);
      expect(r.statusCode, name).toBe(400);
    }
    expect((await app.inject({ method: "PUT", url: "/scenarios/upload", payload: GOOD })).statusCode).toBe(400);
    const b = await upload("dummy", GOOD);
    expect(b.statusCode).toBe(400);
    expect(b.json().message).toMatch(/built-in/);
  });
  it("an empty body is 400 and a 2 MB body is 413", async () => {
    expect((await upload("empty", "")).statusCode).toBe(400);
    const r = await upload("big", "x".repeat(2 * 1024 * 1024));
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toBe("FST_ERR_CTP_BODY_TOO_LARGE");
  });
});
