/**
 * Safe by default, over a real listening server: a table over every route of the OpenAPI document and every
 * dashboard route — a wrong Host is 421, a foreign Origin (or Sec-Fetch-Site) on a state-changing method is 403,
 * a text/plain body to a JSON route is 415, no token is 401, the right token is served — plus the rate limit on
 * wrong tokens (an injected clock), uploads turned off, the check route refusing paths, the report ticket, and the
 * headers every response carries.
 */
import { describe, expect, it } from "vitest";
import {
  advance,
  auth,
  build,
  calls,
  fake,
  GOOD,
  port,
  routes,
  runId,
  send,
  TOKEN,
  useSecureServer,
  withBody,
} from "../helpers/rest-security.js";

useSecureServer();

describe("every route", () => {
  it("covers the whole OpenAPI document and the dashboard (the table is not empty)", async () => {
    const list = await routes();
    expect(list.filter((r) => r.path.startsWith("/execution/")).length).toBeGreaterThanOrEqual(6);
    expect(list.some((r) => r.path.startsWith("/scenarios/upload"))).toBe(true);
  });

  it("refuses a Host that does not name this node with 421 naming AMOC_API_ALLOWED_HOSTS, token or not", async () => {
    for (const r of await routes()) {
      for (const host of [`attacker.example:${port}`, "attacker.example", `127.0.0.1.attacker.example:${port}`]) {
        const a = await withBody(r, { ...auth, host });
        expect(a.status, `${r.method} ${r.path} Host ${host}`).toBe(421);
        const b = JSON.parse(a.body) as { error: string; message: string; hint: string };
        expect(b.error).toBe("API_HOST_REFUSED");
        expect(b.message).toMatch(/AMOC_API_ALLOWED_HOSTS/);
        expect(b.hint).toBeTruthy();
      }
    }
  });

  it("serves the names of the node: localhost, 127.0.0.1, [::1] and api_allowed_hosts, any port", async () => {
    for (const host of [
      "localhost",
      `localhost:${port}`,
      "127.0.0.1:1",
      `[::1]:${port}`,
      "AMOC.lan",
      `amoc.lan:${port}`,
    ]) {
      expect((await send("GET", "/status", { ...auth, host })).status, host).toBe(200);
    }
  });

  it("refuses a state-changing request from a foreign origin or another site with 403, token or not", async () => {
    const changing = (await routes()).filter((r) => r.method !== "GET");
    expect(changing.length).toBeGreaterThanOrEqual(9);
    for (const r of changing) {
      for (const h of <Array<Record<string, string>>>[
        { origin: "http://attacker.example" },
        { origin: `http://attacker.example:${port}` },
        { origin: "http://127.0.0.1:1" },
        { origin: "null" },
        { origin: `https://127.0.0.1:${port}` },
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" },
      ]) {
        const a = await withBody(r, { ...auth, ...h });
        expect(a.status, `${r.method} ${r.path} ${JSON.stringify(h)}`).toBe(403);
        expect(JSON.parse(a.body).error).toBe("API_ORIGIN_REFUSED");
      }
    }
    expect(calls).toEqual([]);
  });

  it("refuses a text/plain (or form) body to a JSON route with 415 naming application/json", async () => {
    const json = (await routes()).filter((r) => r.body?.type === "application/json");
    for (const r of json) {
      for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
        const a = await send(r.method, r.path, { ...auth, "content-type": type }, r.body?.text);
        expect(a.status, `${r.method} ${r.path} ${type}`).toBe(415);
        expect(JSON.parse(a.body).hint).toMatch(/application\/json/);
      }
    }
    expect(calls).toEqual([]);
  });

  it("answers 401 without a token on every route but the open ones", async () => {
    for (const r of await routes()) {
      const a = await withBody(r);
      if (r.open) expect(a.status, `${r.method} ${r.path}`).toBe(200);
      else {
        expect(a.status, `${r.method} ${r.path}`).toBe(401);
        expect(a.headers["www-authenticate"]).toMatch(/Bearer/);
      }
    }
    expect(calls).toEqual([]);
  });

  it("never takes the token from a query string", async () => {
    expect((await send("GET", `/status?token=${TOKEN}`)).status).toBe(401);
    expect((await send("GET", `/dashboard/runs?token=${TOKEN}`)).status).toBe(401);
  });

  it("serves every route with the right token, from the node's own origin too", async () => {
    for (const r of await routes()) {
      for (const extra of <Array<Record<string, string>>>[
        {},
        { origin: `http://127.0.0.1:${port}`, "sec-fetch-site": "same-origin" },
      ]) {
        const a = await withBody(r, { ...auth, ...extra });
        expect([401, 403, 415, 421, 429], `${r.method} ${r.path} -> ${a.status} ${a.body.slice(0, 200)}`).not.toContain(
          a.status,
        );
        expect(a.status, `${r.method} ${r.path} ${a.body.slice(0, 200)}`).toBeLessThan(500);
      }
    }
    expect(calls).toContain("start");
  });

  it("puts CSP, X-Frame-Options and no-referrer on every answer, refusals included", async () => {
    for (const [path, headers] of [
      ["/", {}],
      ["/status", {}],
      ["/status", { host: "evil.example" }],
      ["/nope", auth],
    ] as const) {
      const a = await send("GET", path, headers);
      expect(a.headers["content-security-policy"], path).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
      expect(a.headers["x-frame-options"]).toBe("DENY");
      expect(a.headers["referrer-policy"]).toBe("no-referrer");
    }
  });
});

describe("the dashboard's own routes", () => {
  it("check loads a scenario by its name only: a path or a dotted name is 400, an unknown name 404", async () => {
    const check = (name: string) =>
      send("POST", `/dashboard/scenarios/${name}/check`, { ...auth, "content-type": "application/json" }, "{}");
    for (const name of ["..%2Fscenarios%2Fdummy", "%2Fetc%2Fpasswd", "dummy.ts", "..", "a%2Fb"])
      expect((await check(name)).status, name).toBe(400);
    expect((await check("no_such_scenario")).status).toBe(404);
    expect((await check("dummy")).status).toBe(200);
  });

  it("opens a report with a single-use ticket bound to its path, served sandboxed", async () => {
    const t = JSON.parse((await send("POST", `/dashboard/runs/${runId}/ticket`, auth)).body) as { url: string };
    expect(t.url).toMatch(/\?ticket=[0-9a-f]{36}$/);
    expect(t.url).not.toContain(TOKEN);
    const misused = JSON.parse((await send("POST", `/dashboard/runs/${runId}/ticket`, auth)).body) as { url: string };
    expect((await send("GET", misused.url.replace(`/runs/${runId}/`, "/runs/other/"))).status).toBe(401); // another path: refused (and used up)
    expect((await send("GET", misused.url)).status).toBe(401);
    const r = await send("GET", t.url);
    expect(r.status).toBe(200);
    expect(r.headers["content-security-policy"]).toMatch(/sandbox allow-scripts/);
    expect((await send("GET", t.url)).status).toBe(401); // used up
    const late = JSON.parse((await send("POST", `/dashboard/runs/${runId}/ticket`, auth)).body) as { url: string };
    advance(61_000);
    expect((await send("GET", late.url)).status).toBe(401); // expired
  });
});

describe("wrong tokens", () => {
  it("after 10 wrong tokens in a minute an address gets 429 with Retry-After, even with the right token, until the minute is over", async () => {
    const wrong = { authorization: "Bearer wrong-token-wrong-token" };
    for (let i = 0; i < 10; i++) expect((await send("GET", "/status", wrong)).status).toBe(403);
    const limited = await send("GET", "/status", wrong);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect((await send("GET", "/status", auth)).status).toBe(429);
    expect((await send("GET", "/health")).status).toBe(200);
    advance(60_001);
    expect((await send("GET", "/status", auth)).status).toBe(200);
  });
});

describe("uploads off", () => {
  it("answers 403 naming AMOC_API_UPLOADS before anything is checked, and stores nothing", async () => {
    const off = await build({ uploads: false });
    const uploadsBefore = calls.filter((c) => c === "upload").length;
    try {
      const r = await off.inject({
        method: "PUT",
        url: "/scenarios/upload?name=never_up",
        payload: GOOD,
        headers: auth,
      });
      expect(r.statusCode).toBe(403);
      expect(r.json()).toMatchObject({ error: "API_UPLOADS_OFF" });
      expect(`${r.json().message} ${r.json().hint}`).toMatch(/AMOC_API_UPLOADS/);
      expect(await fake.uploads.latest("never_up")).toBeNull();
      // refused before anything is checked: a bad name or no body is the same 403
      const bad = await off.inject({ method: "PUT", url: "/scenarios/upload?name=..%2Fx", headers: auth });
      expect(bad.statusCode).toBe(403);
      expect(calls.filter((c) => c === "upload").length).toBe(uploadsBefore);
    } finally {
      await off.close();
    }
  });
});
