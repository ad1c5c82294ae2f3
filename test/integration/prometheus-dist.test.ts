/**
 * Prometheus over a cluster: three `bin/amoc worker`s on a real nats-server, each serving /metrics on its own
 * AMOC_PROMETHEUS_PORT, scraped every second by Debian's `prometheus` (scripts/install-deps.sh); PromQL over its HTTP
 * API must agree with the run, every query of the Grafana dashboard must return data, and promtool must accept a
 * worker's exposition.
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { XMPP_BUCKETS } from "../../src/metrics/prometheus.js";
import { useDistScratch } from "../helpers/dist-scratch.js";
import { freePort } from "../helpers/nats-cluster.js";
import { amoc, startWorkers, type ProcResult } from "../helpers/proc.js";

const CLUSTER = `pr${process.pid}`;
const FIXTURES = new URL("../fixtures/scenarios/", import.meta.url).pathname;
const DASHBOARD = new URL("../../docs/grafana/amoc-prometheus-dashboard.json", import.meta.url).pathname;
const USERS = 30;
const scratch = useDistScratch("amoc-prom-");
let promPort: number;
const workerPorts: number[] = [];
const { procs } = scratch;

function env(name: string): NodeJS.ProcessEnv {
  return {
    AMOC_NODE_NAME: name,
    AMOC_NATS_URL: scratch.nats.urls.join(","),
    AMOC_CLUSTER_NAME: CLUSTER,
    AMOC_SCENARIOS_DIR: FIXTURES,
    AMOC_DATA_DIR: join(scratch.dir, name),
    AMOC_TEST_RELEASE: join(scratch.dir, "release"),
  };
}

/** One instant query; the result vector. */
async function query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await r.json()) as { status: string; error?: string; data: { result: [] } };
  if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

/** Polls an async condition (Prometheus answers over HTTP) every 200 ms until it holds. */
async function untilAsync(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function scalar(expr: string): Promise<number | undefined> {
  const r = await query(expr);
  return r[0] ? Number(r[0].value[1]) : undefined;
}

beforeAll(async () => {
  for (let i = 0; i < 3; i++) workerPorts.push(await freePort());
  promPort = await freePort();
  const targets = workerPorts.map((p) => `"127.0.0.1:${p}"`).join(", ");
  writeFileSync(
    join(scratch.dir, "prometheus.yml"),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: amoc\n    static_configs:\n      - targets: [${targets}]\n`,
  );
  const prom = spawn(
    "prometheus",
    [
      `--config.file=${join(scratch.dir, "prometheus.yml")}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      `--storage.tsdb.path=${join(scratch.dir, "tsdb")}`,
    ],
    { stdio: "ignore" },
  );
  procs.push(prom);
  await untilAsync(
    async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => undefined))?.ok === true,
    30_000,
    "prometheus ready",
  );
}, 60_000);

describe("Prometheus scrapes a 3-worker cluster (bin/amoc worker with AMOC_PROMETHEUS_PORT)", () => {
  it("agrees with the run on users and TTD p99, answers every dashboard query, and passes promtool", async () => {
    await startWorkers(
      ["w1", "w2", "w3"],
      (name, k) => ({ AMOC_LOG_LEVEL: "info", AMOC_PROMETHEUS_PORT: String(workerPorts[k]), ...env(name) }),
      procs,
    );
    const run: Promise<ProcResult> = amoc(
      ["run", "prom_hold", "--dist", "--workers", "3", "--users", String(USERS), "--interarrival", "0", "--json"],
      { env: env("m"), timeoutMs: 120_000 },
    );
    // every user holds until released: Prometheus sees them all running on the three workers
    await untilAsync(
      async () => (await scalar("sum(amoc_users_running)")) === USERS,
      30_000,
      "all users running scraped",
    );
    expect(await scalar("count(amoc_users_running)")).toBe(3);
    expect(await scalar("sum(amoc_users_started_total)")).toBe(USERS);

    const text = await (await fetch(`http://127.0.0.1:${workerPorts[0]}/metrics`)).text();
    writeFileSync(join(scratch.dir, "w1.prom"), text);
    const check = await new Promise<{ code: number; out: string }>((resolve) => {
      const c = execFile("promtool", ["check", "metrics"], (err, stdout, stderr) =>
        resolve({ code: err ? 1 : 0, out: stdout + stderr }),
      );
      c.stdin!.end(text);
    });
    expect(check.out).toBe("");
    expect(check.code).toBe(0);

    writeFileSync(join(scratch.dir, "release"), "");
    const r = await run;
    expect(r.code, r.stderr).toBeLessThanOrEqual(1);
    const summary = JSON.parse(r.stdout) as { metrics: Record<string, Record<string, number>> };
    const p99 = (summary.metrics["xmpp.message_ttd"] as Record<string, number>).p99 as number;
    // the crash and the final counts reach Prometheus within a scrape or two
    await untilAsync(
      async () => (await scalar("sum(amoc_users_crashed_by_reason_total)")) === 1,
      20_000,
      "crash scraped",
    );
    // a counter born at its first crash needs two samples before rate/increase see it
    await untilAsync(
      async () => ((await scalar("max(count_over_time(amoc_users_crashed_by_reason_total[1m]))")) ?? 0) >= 2,
      20_000,
      "two scrapes of the crash",
    );
    const q = await scalar("histogram_quantile(0.99, sum by (le) (amoc_xmpp_message_ttd_seconds_bucket))");
    const bucket = (s: number) => XMPP_BUCKETS.findIndex((b) => s <= b);
    expect(Math.abs(bucket(q as number) - bucket(p99 / 1000))).toBeLessThanOrEqual(1);

    const dash = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
      annotations: { list: Array<{ expr?: string }> };
    };
    const exprs = [
      ...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...dash.annotations.list.flatMap((a) => (a.expr ? [a.expr] : [])),
    ];
    expect(exprs.length).toBeGreaterThan(10);
    for (const e of exprs) {
      const expr = e.replaceAll("$__rate_interval", "1m").replaceAll("$node", ".*");
      expect((await query(expr)).length, expr).toBeGreaterThan(0);
    }
  }, 120_000);
});
