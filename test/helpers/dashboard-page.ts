/** The dashboard in headless chromium (Debian chromium + playwright-core): launching it and reading what it drew. */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

/** Headless chromium; a clear error saying how to install it when it is missing. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run 'bash scripts/install-deps.sh browser' (make test does)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** A 1280x900 page whose script errors and console errors go to `errors`, but the refusals `expected` matches. */
export async function dashboardPage(browser: Browser, errors: string[], expected: RegExp): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !expected.test(m.text())) errors.push(m.text());
  });
  return page;
}

/** Probes of the dashboard on the page `current()` returns (set in a beforeAll). */
export function pageProbes(current: () => Page) {
  return {
    /** The users chart's last total (what the page drew). */
    chartTotal: () => current().evaluate<number | null>('window.amoc.charts.last("users", "total")'),
    // predicates are functions (run in the page: no closures), not strings: the dashboard's CSP forbids the eval a
    // string predicate needs
    waitChart: (n: number, timeoutMs = 60_000) =>
      current().waitForFunction((n) => (globalThis as any).amoc.charts.last("users", "total") === n, n, {
        timeout: timeoutMs,
        polling: 200,
      }),
    /** Replaces the editor's text (typing into CodeMirror line by line would auto-indent). */
    setText: (t: string) => current().evaluate(`window.amoc.editor().text = ${JSON.stringify(t)}`),
    /** Waits until an element's text matches (the page's DOM is not typed here: tests run with Node's types). */
    waitText: (sel: string, re: RegExp) =>
      current().waitForFunction(
        ([s, src, flags]) =>
          new RegExp(src, flags).test((globalThis as any).document.querySelector(s)?.textContent ?? ""),
        [sel, re.source, re.flags] as const,
      ),
  };
}
