/**
 * Starting the REST server of a node (`bin/amoc console`, `worker`, `start` when `api_port` is set) in front of the
 * node's API, which serves uploads, checks and history itself: auth and TLS settings checked first. With no
 * api_token (and api_auth=token, the default) the node generates one and writes it to its runtime files
 * (src/node/api-token.ts), removed again at close.
 */
import type { NodeSettings } from "../../config/schema.js";
import { ConfigError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { NodeApi } from "../../node/node-api.js";
import { checkAuthSettings } from "./auth.js";
import { buildRestApp } from "./server.js";
import { apiFile, discoveryFile, generateToken, removeApiRuntime, writeApiRuntime } from "../../node/api-token.js";
import { dataDirFor } from "../../node/data-dir.js";
import { dashboardOptions } from "../web/options.js";
import type { MetricsSource } from "./routes/metrics.js";

/** A listening REST server. */
export interface RestServer {
  url: string;
  /** The bearer token ('' with api_auth=off); never logged. */
  token: string;
  /** Whether the token was generated at start (then it is in `tokenFile`). */
  generated: boolean;
  tokenFile: string;
  /** api_uploads. */
  uploads: boolean;
  close(): Promise<void>;
}

/**
 * Listens on `api_host:api_port` (port 0: a free one) in front of `api`. Throws ConfigError off loopback without
 * `api_token`, or with only one of the TLS files.
 */
export async function startRestServer(
  api: NodeApi,
  settings: NodeSettings,
  log: Logger,
  prometheus?: MetricsSource,
): Promise<RestServer> {
  checkAuthSettings(settings);
  if ((settings.api_tls_cert === "") !== (settings.api_tls_key === "")) {
    throw new ConfigError([
      {
        key: "api_tls_key",
        source: "AMOC_API_TLS_CERT / AMOC_API_TLS_KEY",
        message: "set both the certificate and the key, or neither",
      },
    ]);
  }
  const auth = settings.api_auth ?? "token";
  const generated = auth === "token" && settings.api_token === "";
  const token = auth === "off" ? "" : settings.api_token || generateToken();
  const app = await buildRestApp({
    api,
    token,
    names: { listenHost: settings.api_host, allowedHosts: settings.api_allowed_hosts ?? [] },
    uploads: settings.api_uploads ?? true,
    log,
    tls: settings.api_tls_cert ? { cert: settings.api_tls_cert, key: settings.api_tls_key } : undefined,
    dashboard: dashboardOptions(),
    prometheus,
  });
  await app.listen({ host: settings.api_host, port: settings.api_port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : settings.api_port;
  const host = settings.api_host.includes(":") ? `[${settings.api_host}]` : settings.api_host;
  const url = `${settings.api_tls_cert ? "https" : "http"}://${host}:${port}`;
  // the token goes to the runtime files (0600) so bin/amoc on this machine finds it; the log says only where
  const tokenFile = apiFile(dataDirFor(settings.node_name, settings.data_dir).dir);
  const files = token ? [tokenFile, discoveryFile(port)] : [];
  try {
    writeApiRuntime({ url, token, pid: process.pid, node: settings.node_name }, files);
  } catch (e) {
    await app.close();
    throw e;
  }
  log.info({
    msg: "rest_listening",
    url,
    auth: token ? "bearer" : "off",
    token_file: token ? tokenFile : undefined,
    uploads: settings.api_uploads ?? true,
    docs: `${url}/api-docs`,
  });
  return {
    url,
    token,
    generated,
    tokenFile,
    uploads: settings.api_uploads ?? true,
    async close() {
      removeApiRuntime(files);
      await app.close();
    },
  };
}
