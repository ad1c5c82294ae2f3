/**
 * Set-up shared by the xmpp-user*.test.ts and xmpp-muc.test.ts files: scripted fake XMPP servers and a user context
 * without config loading.
 */
import { onTestFinished } from "vitest";
import { SCHEMA, type NodeSettings } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import type { Metrics } from "../../src/metrics/metrics.js";
import { connectUser } from "../../src/xmpp/session.js";
import type { XmppContext, XmppUser } from "../../src/xmpp/xmpp-user.js";
import { serve as startServer, xmppServer, type FakeServer, type Script } from "./fake-xmpp-server.js";

/** A fake XMPP server closed when the calling test ends. */
export async function serve(script: Script = xmppServer()): Promise<FakeServer> {
  const s = await startServer(script);
  onTestFinished(() => s.close());
  return s;
}

/** Longer than any test may run: a wait that rejects did so because of the loss, not its timer. */
export const FOREVER_MS = 600_000;

/** The schema's defaults with `over`: no config loading, so these tests do not depend on it. */
function settings(over: Partial<NodeSettings>): NodeSettings {
  const defaults = Object.fromEntries(Object.entries(SCHEMA).map(([k, spec]) => [k, spec.default]));
  return { ...defaults, xmpp_user_template: "user", xmpp_password_template: "pw", ...over } as NodeSettings;
}

/** A user context on the schema's defaults with `over`, counting its metrics and recording its timings. */
export function context(over: Partial<NodeSettings> = {}) {
  const counts = new Map<string, number>();
  const timings = new Map<string, number[]>();
  const metrics: Metrics = {
    count: (n, k = 1) => void counts.set(n, (counts.get(n) ?? 0) + k),
    timing: (n, v) => void timings.set(n, [...(timings.get(n) ?? []), v]),
    gauge: () => {},
  };
  const ctx: XmppContext = {
    id: 1,
    settings: settings(over),
    metrics,
    log: silentLogger(),
    phase: "test",
    signal: new AbortController().signal,
    stopping: false,
    stopped: () => new Promise<void>(() => {}),
  };
  return { ctx, counts, timings };
}

export async function online(url: URL): Promise<{ user: XmppUser; counts: Map<string, number> }> {
  const { ctx, counts } = context({ xmpp_servers: [url.href] });
  return { user: await connectUser(ctx), counts };
}
