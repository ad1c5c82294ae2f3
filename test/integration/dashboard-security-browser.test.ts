/**
 * Safe by default, in headless chromium against a real `bin/amoc console` with its generated token:
 *   - a page of another origin (a second local HTTP server, another port) tries fetch (PATCH /execution/start,
 *     PUT /scenarios/upload, a text/plain POST to the dashboard's check route) and an HTML form post: nothing is
 *     uploaded (the upload store stays empty) and no scenario code runs (the marker its top level and init would
 *     write does not appear);
 *   - the DNS-rebinding shape (Host and Origin naming attacker.example) uploading then starting is 4xx, no trace;
 *   - the dashboard opened from the URL the node printed (`/?token=...`) works, the address bar loses the token,
 *     and a reload keeps working.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { join, resolve } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/nats-cluster.js";
import { AMOC } from "../helpers/proc.js";
import { until } from "../helpers/wait.js";

const CHROMIUM = "/usr/bin/chromium";
// inside the project: an uploaded scenario would resolve `amoc-ts` from the data directory
const RUN_DIR = resolve(`.run/test/dash-sec-${process.pid}`);
const MARKER = join(RUN_DIR, "pwned");
const UPLOADS = join(RUN_DIR, "amoc", "sec1", "uploads");
const EVIL = `import { writeFileSync } from "node:fs";
writeFileSync(${JSON.stringify(MARKER)}, "top level ran");
export async function init(): Promise<void> { writeFileSync(${JSON.stringify(MARKER)}, "init ran"); }
export async function start(_id: number): Promise<void> {}
`;

let proc: ChildProcess;
let port: number;
let printed = "";
let stderr = "";
let attacker: Server;
let attackerUrl = "";
let browser: Browser;

const nothingHappened = () => {
  expect(existsSync(MARKER), "the scenario's code ran").toBe(false);
  const stored = existsSync(UPLOADS) ? readdirSync(UPLOADS) : [];
  expect(stored, "something was uploaded").toEqual([]);
};

/** The attacker's page: every way a page of another origin can send to the node, each outcome recorded. */
function attackPage(node: string): string {
  return `<!doctype html><html><body>
<form id="f" method="POST" action="${node}/dashboard/scenarios/dummy/check" enctype="text/plain"><input name='{"settings":{}, "x":"' value='"}'></form>
<iframe name="sink" id="sink"></iframe>
<script>
window.results = {};
const src = ${JSON.stringify(EVIL)};
const tryIt = async (k, f) => { try { const r = await f(); window.results[k] = r.type === "opaque" ? "opaque" : r.status; } catch (e) { window.results[k] = "blocked"; } };
(async () => {
  await tryIt("upload", () => fetch("${node}/scenarios/upload?name=evil", { method: "PUT", body: src }));
  await tryIt("upload_nocors", () => fetch("${node}/scenarios/upload?name=evil", { method: "POST", mode: "no-cors", body: src, headers: { "content-type": "text/plain" } }));
  await tryIt("start", () => fetch("${node}/execution/start", { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ scenario: "evil", users: 1 }) }));
  await tryIt("check", () => fetch("${node}/dashboard/scenarios/dummy/check", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: JSON.stringify({ settings: {} }) }));
  const f = document.getElementById("f"); f.target = "sink"; f.submit();
  window.results.form = "sent";
  window.done = true;
})();
</script></body></html>`;
}

function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (r) => {
      let t = "";
      r.on("data", (d: Buffer) => (t += d.toString()));
      r.on("end", () => res({ status: r.statusCode ?? 0, body: t }));
    });
    req.on("error", rej);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// predicates are functions (run in the page: no closures), not strings: the dashboard's CSP forbids the eval a
// string predicate needs
const launch = () =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  }); // playwright gives each launch a new empty profile (it refuses --user-data-dir here)

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run 'bash scripts/install-deps.sh browser' (make test does)`);
  mkdirSync(RUN_DIR, { recursive: true });
  port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AMOC_API_PORT: String(port),
    AMOC_LOG_LEVEL: "warn",
    AMOC_RUN_DIR: RUN_DIR,
    AMOC_NODE_NAME: "sec1",
  };
  delete env.AMOC_NATS_URL;
  delete env.AMOC_API_TOKEN;
  proc = spawn(AMOC, ["console"], { env, stdio: ["pipe", "ignore", "pipe"] });
  proc.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    printed ||= /dashboard: (http:\/\/\S+)/.exec(stderr)?.[1] ?? "";
  });
  await until(() => printed !== "", 60_000, "the console's dashboard URL on its terminal");
  attacker = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "text/html" }).end(attackPage(`http://127.0.0.1:${port}`)),
  );
  const ap = await freePort();
  await new Promise<void>((r) => attacker.listen(ap, "127.0.0.1", r));
  attackerUrl = `http://127.0.0.1:${ap}/`;
  browser = await launch();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  attacker?.close();
  proc?.stdin?.end();
  if (proc) await new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once("exit", () => r())));
  rmSync(RUN_DIR, { recursive: true, force: true });
});

describe("a page of another origin cannot drive the node", () => {
  it("prints a dashboard URL carrying a generated token, and says auth and uploads are on", () => {
    expect(printed).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?token=[0-9a-f]{48}$`));
    expect(stderr).toMatch(/auth token/);
    expect(stderr).toMatch(/uploads on/);
  });

  it("fetches and a form post from another port upload nothing and run nothing", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(attackerUrl);
      await page.waitForFunction("window.done === true", null, { timeout: 15_000 });
      // the form's answer (a 4xx) lands in the frame: wait for it before looking for traces
      await page.waitForFunction(
        '(() => { try { return document.getElementById("sink").contentDocument === null || document.getElementById("sink").contentWindow.location.href !== "about:blank"; } catch { return true; } })()',
        null,
        { timeout: 15_000 },
      );
      const results = (await page.evaluate("window.results")) as Record<string, unknown>;
      // preflighted requests never leave the browser (the node sends no CORS headers); simple ones get an opaque 403
      expect(results.upload).toBe("blocked");
      expect(results.start).toBe("blocked");
      expect(results.check).toBe("opaque");
    } finally {
      await page.close();
    }
    // the same requests as the browser sent them, replayed: the node refuses them (403 origin), so the opaque
    // answers above were refusals too
    const origin = attackerUrl.replace(/\/$/, "");
    const check = await rawRequest(
      "POST",
      "/dashboard/scenarios/dummy/check",
      { host: `127.0.0.1:${port}`, origin, "sec-fetch-site": "same-site", "content-type": "text/plain" },
      "{}",
    );
    expect(check.status).toBe(403);
    nothingHappened();
  });

  it("the DNS-rebinding shape (Host and Origin naming attacker.example) uploading then starting is 4xx and leaves no trace", async () => {
    const evil = { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` };
    const up = await rawRequest("PUT", "/scenarios/upload?name=evil", { ...evil, "content-type": "text/plain" }, EVIL);
    expect(up.status).toBe(421);
    expect(JSON.parse(up.body).message).toMatch(/AMOC_API_ALLOWED_HOSTS/);
    const start = await rawRequest(
      "PATCH",
      "/execution/start",
      { ...evil, "content-type": "application/json" },
      JSON.stringify({ scenario: "evil", users: 1 }),
    );
    expect(start.status).toBe(421);
    nothingHappened();
  });
});

describe("the dashboard from the printed URL", () => {
  it("works with the generated token, takes the token out of the address bar, and keeps working after a reload", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
    try {
      await page.goto(printed);
      await page.waitForFunction(() => (globalThis as any).amoc?.ready === true, null, { timeout: 30_000 });
      expect(page.url()).toBe(`http://127.0.0.1:${port}/`);
      expect(await page.isVisible("#login")).toBe(false);
      await page.click('#tabs button[data-tab="scenarios"]');
      await page.waitForSelector('#scenario-list [data-scenario="dummy"]', { timeout: 15_000 });
      await page.reload();
      await page.waitForFunction(() => (globalThis as any).amoc?.ready === true, null, { timeout: 30_000 });
      expect(page.url()).not.toContain("token");
      expect(await page.isVisible("#login")).toBe(false);
      await page.waitForFunction(
        () => (globalThis as any).document.querySelector("#conn")?.textContent === "connected",
        null,
        { timeout: 15_000 },
      );
      expect(errors, errors.join("\n")).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
