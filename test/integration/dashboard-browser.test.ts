/**
 * The web dashboard in a real browser (Debian chromium + playwright-core) on a real cluster: a NATS server, two
 * `bin/amoc worker` processes, the REST server (with a token) on one of them. The token prompt refuses a wrong
 * token; 200 dummy users started from the form reach 200 on the users chart; 20 are removed; the run is stopped;
 * stored runs open their report and compare; a scenario with a syntax error shows the error at its line and the
 * fixed one runs again; a worker killed turns red. Screenshots of the main views go to .run/screenshots/.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, patchJson, startDashboardCluster } from "../helpers/dashboard-cluster.js";
import { pageProbes } from "../helpers/dashboard-page.js";
import type { NatsCluster } from "../helpers/nats-cluster.js";
import { untilAsync as until } from "../helpers/wait.js";

const TOKEN = "dash-test-token-0123456789";
const CLUSTER = `dash${process.pid}`;
// inside the project: uploaded scenarios resolve `amoc-ts` from their data directories
const RUN_DIR = resolve(`.run/test/dash-int-${process.pid}`);
/** Screenshots go under .run/ (git-ignored): a test run leaves the checkout clean. */
const SHOTS = new URL("../../.run/screenshots/", import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });
const shot = (name: string) => `${SHOTS}dashboard-${name}.png`;

let nats: NatsCluster;
let url: string;
let browser: Browser;
let page: Page;
const procs = new Map<string, ChildProcess>();
const pageErrors: string[] = [];
const { chartTotal, waitChart, setText, waitText } = pageProbes(() => page);

const api = (path: string) => getJson(url + path, TOKEN);

beforeAll(async () => {
  ({ nats, url, browser, page } = await startDashboardCluster({
    token: TOKEN,
    cluster: CLUSTER,
    runDir: RUN_DIR,
    procs,
    pageErrors,
  }));
}, 180_000);

afterAll(async () => {
  await patchJson(`${url}/execution/stop`, TOKEN, {}).catch(() => undefined);
  await browser?.close();
  for (const p of procs.values()) p.kill("SIGKILL");
  await nats?.stop();
  rmSync(RUN_DIR, { recursive: true, force: true });
});

describe("the web dashboard in chromium on a 2-worker cluster", () => {
  it("asks for the token, refuses a wrong one, and opens with the right one", async () => {
    await page.goto(url);
    await page.waitForSelector("#login:not([hidden])");
    await page.fill("#login-token", "wrong-token");
    await page.click("#login-form button");
    await waitText("#login-msg", /refused/);
    expect(await page.isVisible("#login")).toBe(true);
    expect(await page.evaluate('sessionStorage.getItem("amoc_token")')).toBeNull();
    await page.fill("#login-token", TOKEN);
    await page.click("#login-form button");
    await page.waitForFunction(() => (globalThis as any).amoc?.ready === true);
    // the header says what the node is doing from its status, not "connecting…" until the stream's first frame
    expect(await page.textContent("#run-line")).toMatch(/^dist · no run/);
    expect(await page.isVisible("#login")).toBe(false);
    // the icon browsers ask for on every load is served (no failed load in the console)
    const icon = await fetch(`${url}/favicon.ico`);
    expect([icon.status, icon.headers.get("content-type")]).toEqual([200, "image/svg+xml"]);
    // no request ever carries the token in its URL
    expect(page.url()).not.toContain(TOKEN);
    await page.waitForSelector('tr[data-node="w1"][data-state="idle"]');
    await page.waitForSelector('tr[data-node="w2"][data-state="idle"]');
    expect(await page.textContent('tr[data-node="w1"]')).toContain("zone=a");
    // health of a worker process: RSS in MB is filled in
    await waitText('tr[data-node="w2"]', /MB/);
  });

  it("shows a bad variable next to its input without starting a run", async () => {
    await page.click('#tabs button[data-tab="control"]');
    await page.waitForSelector('#scenario option[value="dummy"]', { state: "attached" });
    await page.selectOption("#scenario", "dummy");
    await page.waitForSelector('input[data-var="dummy_sleep_ms"]');
    await page.fill('input[data-var="dummy_sleep_ms"]', "-5");
    await page.click("#btn-start");
    await waitText('[data-var-error="dummy_sleep_ms"]', /./);
    expect((await api("/status")).json.run?.state ?? "none").not.toBe("running");
    await page.fill('input[data-var="dummy_sleep_ms"]', "0");
  });

  it("starts 200 dummy users from the form and the users chart reaches 200", async () => {
    await page.fill("#users", "200");
    await page.fill("#interarrival", "5");
    await page.fill("#repeat_num", "infinity");
    await page.click("#btn-start");
    await page.waitForSelector("#result-status.ok");
    expect(await page.locator("#result-nodes tbody tr").count()).toBe(2);
    await page.click('#tabs button[data-tab="cluster"]');
    await waitChart(200);
    await page.waitForSelector('tr[data-node="w1"][data-state="running"]');
    // the workers' per-interval results reach the page through the master
    await page.waitForFunction(() => (globalThis as any).amoc.lastFrame()?.series === "intervals", null, {
      timeout: 15_000,
    });
    // the run's own metrics are one pick away; a run without messages draws no empty TTD chart; timings leave gaps
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll("#metric-pick option").length > 0);
    const ids = await page.evaluate<string[]>("window.amoc.charts.chartIds()");
    expect(ids).toContain("picked");
    expect(ids).not.toContain("ttd");
    expect(await page.evaluate("window.amoc.charts.joinsGaps('connection')")).toBe(false);
    // the server under test's CPU and memory are drawn beside the load while the run samples it
    await page.waitForFunction(
      () => ["server-cpu", "server-memory"].every((id) => (globalThis as any).amoc.charts.chartIds().includes(id)),
      null,
      { timeout: 15_000 },
    );
    // one process, one figure: w2 serves the API (the master's row) and runs users (its worker row)
    const same = await page.evaluate(() => {
      const cells = (tr: any) => [...tr.querySelectorAll("td")].slice(-4).map((td) => td.textContent);
      const rows = [...(globalThis as any).document.querySelectorAll("#nodes tbody tr")] as any[];
      const master = rows.find((r) => r.querySelectorAll("td")[1]?.textContent === "master");
      const w2 = rows.find((r) => r.getAttribute("data-node") === "w2");
      return master && w2 ? [cells(master), cells(w2)] : null;
    });
    expect(same).not.toBeNull();
    expect(same?.[0]).toEqual(same?.[1]);
    await page.screenshot({ path: shot("cluster"), fullPage: true });
  });

  it("removes 20 users, updates a variable live and stops the run, marked on the charts", async () => {
    await page.click('#tabs button[data-tab="control"]');
    await page.fill("#remove-n", "20");
    await page.click("#btn-remove");
    await page.waitForSelector("#result-status.ok");
    await page.screenshot({ path: shot("control"), fullPage: true });
    await waitChart(180).catch(async (e: Error) => {
      throw new Error(
        `${e.message}; chart ${await chartTotal()}; status ${JSON.stringify((await api("/status")).json.users)}`,
      );
    });
    await page.fill('input[data-var="dummy_sleep_ms"]', "1");
    await page.click("#btn-update");
    await waitText("#result-status", /^update_settings: ok/);
    expect(await page.locator("#result-nodes tbody tr").count()).toBe(2);
    await page.click("#btn-stop");
    await waitText("#result-status", /^stop: ok/);
    // the stop ended the run: its verdict, as the run service judged it, is shown with the result
    await waitText("#result-run", /^run \S+: (passed|failed|breached) \(exit \d+\)/);
    await waitChart(0);
    const kinds = await page.evaluate<string[]>("window.amoc.charts.recentEvents(50).map((e) => e.kind)");
    expect(kinds).toEqual(expect.arrayContaining(["start", "remove", "stop"]));
    expect(await chartTotal()).toBe(0);
  });

  it("lists the node's runs, the one started from the form first with its verdict, opens a report and compares two runs", async () => {
    await page.click('#tabs button[data-tab="history"]');
    await page.waitForSelector("#runs tbody tr");
    expect(await page.locator("#runs tbody tr").count()).toBeGreaterThanOrEqual(3);
    // the run the form started went through the node's run service: recorded, ended, judged
    const first = page.locator("#runs tbody tr").first();
    expect(await first.locator("td").nth(2).textContent()).toBe("dummy");
    expect(await first.locator("td").nth(7).textContent()).toMatch(/^(passed|failed|breached)$/);
    await page.locator("#runs tbody tr .open-report").first().click();
    const frame = page.frameLocator("#report-frame");
    await frame.locator("body").waitFor();
    await frame.locator("#charts canvas").first().waitFor();
    const picks = page.locator("#runs input.pick");
    await picks.nth(0).check();
    await picks.nth(1).check();
    await page.click("#btn-compare");
    await page.waitForSelector("#compare tbody tr");
    expect(await page.textContent("#compare")).toContain("users");
    await page.screenshot({ path: shot("history"), fullPage: true });
    // one scenario's runs only, as bin/amoc runs --name lists them
    await page.fill("#history-scenario", "one_to_one");
    await page.press("#history-scenario", "Enter");
    await page.waitForFunction(() => (globalThis as any).document.querySelectorAll("#runs tbody tr").length === 2);
    const scenarios = await page.locator("#runs tbody tr td:nth-child(3)").allTextContents();
    expect(scenarios).toEqual(["one_to_one", "one_to_one"]);
    await page.fill("#history-scenario", "");
    await page.press("#history-scenario", "Enter");
  });

  it("shows a syntax error at its line, then saves the fixed scenario and runs it again", async () => {
    await page.click('#tabs button[data-tab="control"]');
    await page.fill("#users", "10");
    await page.click('#tabs button[data-tab="scenarios"]');
    await page.click('#scenario-list div[data-scenario="dummy"]');
    await page.waitForFunction(() => (globalThis as any).amoc.editor().text.includes("defineScenario"));
    // TypeScript highlighting: keywords are styled tokens; the parser highlights after the text is set, so wait
    await page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll("#editor .cm-content span").length > 10,
    );
    const good =
      'import { defineScenario } from "amoc-ts";\n\nexport default defineScenario({\n  variables: {},\n  async start(_id, _state, ctx) {\n    await ctx.stopped();\n  },\n});\n';
    const broken = good.replace("    await ctx.stopped();", "    let x = ;");
    await page.fill("#save-name", "dash_hold");
    await setText(broken);
    await page.click("#btn-save");
    await page.waitForSelector("#problems li");
    expect(await page.getAttribute("#problems li", "data-line")).toBe("6");
    // the error is marked in the editor's lint gutter, on line 6
    expect(await page.evaluate<number[]>("window.amoc.editor().marked()")).toEqual([6]);
    await page.waitForSelector("#editor .cm-lint-marker-error");
    await page.waitForSelector("#editor .cm-lintRange-error");
    await page.screenshot({ path: shot("scenarios"), fullPage: true });
    await setText(good);
    await page.click("#btn-save");
    await page.waitForSelector("#save-ok");
    expect(await page.locator("#editor .cm-lint-marker-error").count()).toBe(0);
    await page.click("#btn-run-again");
    await page.waitForSelector("#result-status.ok");
    await until(async () => (await api("/status")).json.users?.running === 10, 30_000, "10 users of dash_hold");
    expect((await api("/status")).json.run).toMatchObject({ scenario: "dash_hold", state: "running" });
    await page.click("#btn-stop");
    await waitText("#result-status", /^stop: ok/);
  });

  it("preselects the scenario of a run started elsewhere in the Control form", async () => {
    await page.click('#tabs button[data-tab="control"]');
    await page.waitForSelector('#scenario option[value="idle"]', { state: "attached" });
    await page.selectOption("#scenario", "idle");
    const patch = (path: string, body: unknown) => patchJson(url + path, TOKEN, body);
    expect((await patch("/execution/start", { scenario: "dummy", users: 2 })).status).toBe(200);
    await page.waitForFunction(
      () => ((globalThis as any).document.querySelector("#scenario") as { value: string }).value === "dummy",
    );
    expect((await patch("/execution/stop", {})).status).toBe(200);
  });

  it("runs a capacity search from the Control panel: its steps and capacity show, and it is stored as a capacity run", async () => {
    await page.click('#tabs button[data-tab="control"]');
    await page.selectOption("#scenario", "dummy");
    await page.click("#capacity summary");
    await page.fill("#cap-slos", "users.crashed==0");
    for (const [id, v] of [
      ["#cap-start", "4"],
      ["#cap-step", "4"],
      ["#cap-max", "8"],
      ["#cap-hold", "2s"],
    ] as const)
      await page.fill(id, v);
    await page.click("#btn-capacity");
    // done: either a capacity, or (on a machine too loaded for its workers' event loops) a generator-limited step
    await page
      .waitForFunction(
        () => /^capacity/.test((globalThis as any).document.querySelector("#capacity-verdict")?.textContent ?? ""),
        undefined,
        { timeout: 60_000 },
      )
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\npanel: ${await page.textContent("#capacity-result")}`);
      });
    const p = (await api("/execution/capacity")).json;
    expect(p.state).toBe("done");
    const verdict = await page.textContent("#capacity-verdict");
    if (p.result.generatorLimited === null) {
      expect(verdict).toMatch(/^capacity: 8 users/);
      expect(await page.locator("#capacity-result tbody tr").count()).toBe(2);
    } else expect(verdict).toMatch(/^capacity not measured: limited by the generator \(worker /);
    const runs = (await api("/dashboard/runs")).json.runs as Array<{ id: string; kind: string }>;
    expect(runs[0]).toMatchObject({ id: p.run_id, kind: "capacity" });
    await page.screenshot({ path: shot("capacity") });
  });

  it("shows the node's state from its status while the live stream is down, and says connected once it opens", async () => {
    const fresh = await browser.newPage();
    try {
      // the stream refused: what the page shows can only come from the REST status
      await fresh.route("**/dashboard/stream", (route) => route.abort());
      await fresh.goto(`${url}/?token=${TOKEN}`);
      await fresh.waitForFunction(() => (globalThis as any).amoc?.ready === true);
      expect(await fresh.textContent("#run-line")).toMatch(/^dist · /);
      expect(await fresh.textContent("#conn")).not.toBe("connected");
      await fresh.unroute("**/dashboard/stream");
      await fresh.waitForFunction(
        () => (globalThis as any).document.querySelector("#conn")?.textContent === "connected",
      );
    } finally {
      await fresh.close();
    }
  });

  it("turns a worker that dies red within the heartbeat window", async () => {
    await page.click('#tabs button[data-tab="cluster"]');
    procs.get("w1")!.kill("SIGKILL");
    await page.waitForSelector('tr.down[data-node="w1"]', { timeout: 15_000 });
    expect(pageErrors).toEqual([]);
  });
});
