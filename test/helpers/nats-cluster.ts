/** Starts real nats-server processes (JetStream on) on free loopback ports: one server, or a 3-node cluster. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A free TCP port on 127.0.0.1 (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** An authorization block for one user (the `extraConf` of NatsCluster.start): clients must present these credentials. */
export function userAuth(user: string, password: string): string {
  return `authorization { users = [ { user: ${JSON.stringify(user)}, password: ${JSON.stringify(password)} } ] }`;
}

interface Member {
  name: string;
  conf: string;
  client: number;
  http: number;
  proc?: ChildProcess;
}

/** A running set of nats-servers. */
export class NatsCluster {
  private constructor(
    private readonly dir: string,
    private readonly members: Member[],
  ) {}

  /** The servers' process ids (a real process on this machine, e.g. for AMOC_SUT_PROCESS). */
  get pids(): number[] {
    return this.members.flatMap((m) => (m.proc?.pid === undefined ? [] : [m.proc.pid]));
  }

  /** Client URLs of every member. */
  get urls(): string[] {
    return this.members.map((m) => `nats://127.0.0.1:${m.client}`);
  }

  /**
   * Starts `size` servers (1 = single server); resolves when every one is healthy and JetStream has a leader.
   * `extraConf` is appended to every server's config (e.g. an authorization block).
   */
  static async start(size: 1 | 3, extraConf = ""): Promise<NatsCluster> {
    const dir = mkdtempSync(join(tmpdir(), "amoc-nats-"));
    const ports = await Promise.all(Array.from({ length: size * 3 }, () => freePort()));
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      const [client, http, route] = [ports[i * 3]!, ports[i * 3 + 1]!, ports[i * 3 + 2]!];
      const routes = Array.from({ length: size }, (_, j) => `nats-route://127.0.0.1:${ports[j * 3 + 2]}`).join(", ");
      const conf = join(dir, `n${i + 1}.conf`);
      writeFileSync(
        conf,
        [
          `server_name: n${i + 1}`,
          `listen: 127.0.0.1:${client}`,
          `http: 127.0.0.1:${http}`,
          `jetstream { store_dir: "${join(dir, `js${i + 1}`)}", max_memory_store: 64MB, max_file_store: 4GB }`,
          size > 1 ? `cluster { name: amoc_test, listen: 127.0.0.1:${route}, routes: [ ${routes} ] }` : "",
          extraConf,
        ].join("\n"),
      );
      members.push({ name: `n${i + 1}`, conf, client, http });
    }
    const c = new NatsCluster(dir, members);
    for (const m of members) c.spawn(m);
    await c.waitHealthy();
    return c;
  }

  private spawn(m: Member): void {
    m.proc = spawn("nats-server", ["-c", m.conf], { stdio: "ignore" });
  }

  private async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ok = await Promise.all(
        this.members.map(async (m) => {
          try {
            const r = await fetch(`http://127.0.0.1:${m.http}/healthz?js-enabled-only=true`, {
              signal: AbortSignal.timeout(1000),
            });
            const jsz = (await (
              await fetch(`http://127.0.0.1:${m.http}/jsz`, { signal: AbortSignal.timeout(1000) })
            ).json()) as { meta_cluster?: { leader?: string } };
            return r.ok && (this.members.length === 1 || Boolean(jsz.meta_cluster?.leader));
          } catch {
            return false;
          }
        }),
      );
      if (ok.every(Boolean)) return;
      if (Date.now() > end) throw new Error(`nats-server members not healthy within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops member `i` (SIGTERM) and starts it again with the same config and store. */
  async restart(i: number): Promise<void> {
    const m = this.members[i]!;
    await stopProc(m.proc);
    this.spawn(m);
    await this.waitHealthy();
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => stopProc(m.proc)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function stopProc(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once("exit", () => r()));
  p.kill("SIGTERM");
  const t = setTimeout(() => p.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}
