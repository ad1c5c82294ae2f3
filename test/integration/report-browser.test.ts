import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syntheticRun } from "../helpers/results-synthetic.js";

const CHROMIUM = "/usr/bin/chromium";
/** Under .run/ (git-ignored): a test run leaves the checkout clean. */
const SCREENSHOT = new URL("../../.run/screenshots/report-screenshot.png", import.meta.url).pathname;
mkdirSync(new URL("../../.run/screenshots/", import.meta.url).pathname, { recursive: true });

describe("HTML report in a real browser (Debian chromium + playwright-core)", () => {
  let dir: string;
  let browser: Browser;
  let report: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run 'bash scripts/install-deps.sh browser' (make test does)`);
    dir = mkdtempSync(join(tmpdir(), "amoc-report-"));
    report = join(dir, "report.html");
    // a 3-node run of 90 s where worker3 dies at 60 s, with one threshold breached
    syntheticRun({
      storePath: join(dir, "runs.sqlite"),
      nodes: 3,
      seconds: 90,
      usersPerNode: 40,
      thresholds: ["xmpp.message_ttd.p99<0.001", "xmpp.connection.p95<=200"],
      reportPath: report,
      dieAtS: { node: 2, s: 60 },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the report is one self-contained file: no external script, style or fetch", () => {
    const html = readFileSync(report, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+stylesheet/);
    expect(statSync(report).size).toBeLessThan(3 * 1024 * 1024);
  });

  it("renders offline: every chart has data, the breach and the dead node are shown, no console errors", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) requests.push(r.url());
    });
    await page.goto(pathToFileURL(report).href);
    await page.waitForFunction(() => (globalThis as unknown as { reportReady?: boolean }).reportReady === true, null, {
      timeout: 15_000,
    });
    const points = await page.evaluate(
      () => (globalThis as unknown as { reportCharts: Record<string, number> }).reportCharts,
    );
    expect(Object.keys(points).sort()).toEqual(["arrivals", "connection", "crashes", "messages", "ttd", "users"]);
    for (const [chart, n] of Object.entries(points)) expect(n, `chart ${chart}`).toBeGreaterThan(0);
    expect(await page.locator("#charts canvas").count()).toBe(6);
    expect(await page.locator(".verdict").first().textContent()).toBe("breached");
    expect(await page.locator("tr.breach td.name", { hasText: "xmpp.message_ttd.p99<0.001" }).count()).toBe(1);
    expect(
      await page.locator("tr", { hasText: "worker3" }).filter({ hasText: "stopped reporting before the end" }).count(),
    ).toBe(1);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
  });
});
