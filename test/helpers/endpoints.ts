/**
 * Where the integration tests find the real servers: one place, so no test hard-codes a port. The global setup
 * (test/helpers/servers-setup.ts) publishes the endpoints with vitest's `provide`; a test reads them here. When the
 * shared servers already run (`make servers-up`), they are today's fixed ports; when the setup had to start servers
 * itself, it chose free ports, so several test files (or checkouts) can run at once.
 */
import { inject } from "vitest";

/** The ports of one XMPP server. */
export interface XmppPorts {
  c2s: number;
  tls: number;
  http: number;
  /** The run directory of this server (scripts/servers.sh AMOC_RUN_DIR): its pid files, for AMOC_SUT_PROCESS. */
  runDir?: string;
}

/** Every endpoint the integration tests use; serializable (it crosses from the global setup to the test workers). */
export interface Endpoints {
  /** The servers' run directory (scripts/servers.sh AMOC_RUN_DIR): whisper files, certificates, logs. */
  runDir: string;
  prosody: XmppPorts;
  ejabberd: XmppPorts;
  statsd: { host: string; port: number };
  carbonPort: number;
  /** graphite-web's base URL, no trailing slash. */
  graphiteWeb: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    amocEndpoints: Endpoints;
  }
}

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** The ports scripts/servers.sh uses when no *_PORT variable is set: those of the shared servers. */
export function defaultEndpoints(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const port = (name: string, dflt: number) => Number(env[name] ?? dflt);
  return {
    runDir: env.AMOC_RUN_DIR ?? `${REPO}/.run`,
    prosody: {
      c2s: port("PROSODY_C2S_PORT", 5222),
      tls: port("PROSODY_TLS_PORT", 5223),
      http: port("PROSODY_HTTP_PORT", 5280),
      runDir: env.AMOC_RUN_DIR ?? `${REPO}/.run`,
    },
    ejabberd: {
      c2s: port("EJABBERD_C2S_PORT", 5322),
      tls: port("EJABBERD_TLS_PORT", 5323),
      http: port("EJABBERD_HTTP_PORT", 5380),
      runDir: env.AMOC_RUN_DIR ?? `${REPO}/.run`,
    },
    statsd: { host: "127.0.0.1", port: port("STATSD_PORT", 8125) },
    carbonPort: port("CARBON_PORT", 2003),
    graphiteWeb: env.AMOC_TEST_GRAPHITE_WEB ?? `http://127.0.0.1:${port("GRAPHITE_WEB_PORT", 8080)}`,
  };
}

/** The endpoints of this test run: what the global setup provided, else the defaults (a file run outside the project). */
export function endpoints(): Endpoints {
  let provided: Endpoints | undefined;
  try {
    provided = inject("amocEndpoints");
  } catch {
    provided = undefined; // not inside a vitest worker
  }
  return provided ?? defaultEndpoints();
}

/** How a client reaches an XMPP server: plain c2s (STARTTLS optional), direct TLS, WebSocket, or BOSH. */
export type XmppKind = "xmpp" | "xmpps" | "ws" | "bosh";

function xmppUrl(p: XmppPorts, kind: XmppKind, wsPath: string, boshPath: string): string {
  if (kind === "xmpp") return `xmpp://127.0.0.1:${p.c2s}`;
  if (kind === "xmpps") return `xmpps://127.0.0.1:${p.tls}`;
  if (kind === "bosh") return `http://127.0.0.1:${p.http}${boshPath}`;
  return `ws://127.0.0.1:${p.http}${wsPath}`;
}

/** Prosody's URL of that kind, e.g. `xmpp://127.0.0.1:5222`, `ws://127.0.0.1:5280/xmpp-websocket`, `http://127.0.0.1:5280/http-bind`. */
export function prosodyUrl(kind: XmppKind = "xmpp"): string {
  return xmppUrl(endpoints().prosody, kind, "/xmpp-websocket", "/http-bind");
}

/** ejabberd's URL of that kind, e.g. `xmpp://127.0.0.1:5322`, `ws://127.0.0.1:5380/ws`, `http://127.0.0.1:5380/bosh`. */
export function ejabberdUrl(kind: XmppKind = "xmpp"): string {
  return xmppUrl(endpoints().ejabberd, kind, "/ws", "/bosh");
}

/** The StatsD daemon (UDP) in front of carbon. */
export function statsd(): { host: string; port: number } {
  return endpoints().statsd;
}

/** graphite-web's base URL (render API, `/events/`), no trailing slash. */
export function graphiteWeb(): string {
  return endpoints().graphiteWeb;
}

/** Where carbon writes whisper files of StatsD's `stats.*` tree. */
export function whisperStatsDir(): string {
  return `${endpoints().runDir}/graphite/storage/whisper/stats`;
}

/** The environment variables scripts/servers.sh reads for these endpoints (to start a private server beside them). */
export function serversEnv(e: Endpoints = endpoints()): Record<string, string> {
  return {
    AMOC_RUN_DIR: e.runDir,
    PROSODY_C2S_PORT: String(e.prosody.c2s),
    PROSODY_TLS_PORT: String(e.prosody.tls),
    PROSODY_HTTP_PORT: String(e.prosody.http),
    EJABBERD_C2S_PORT: String(e.ejabberd.c2s),
    EJABBERD_TLS_PORT: String(e.ejabberd.tls),
    EJABBERD_HTTP_PORT: String(e.ejabberd.http),
    STATSD_PORT: String(e.statsd.port),
    CARBON_PORT: String(e.carbonPort),
    GRAPHITE_WEB_PORT: new URL(e.graphiteWeb).port,
  };
}
