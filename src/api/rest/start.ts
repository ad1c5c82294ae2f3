/**
 * Starting the REST server of a node (`bin/amoc console`, `worker`, `start` when `api_port` is set): auth and TLS
 * settings checked first, uploads stored in the node's data directory (local) or the cluster's bucket (dist). With
 * no api_token (and api_auth=token, the default) the node generates one and writes it to its runtime files
 * (src/node/api-token.ts), removed again at close.
 */
import { resolve, join } from "node:path";
import { nodeDataDir, type ScenarioStore } from "../../cluster/scenario-store.js";
import type { NodeSettings } from "../../config/schema.js";
import { ConfigError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { NodeApi } from "../../node/node-api.js";
import type { Telemetry } from "../../telemetry.js";
import { checkAuthSettings } from "./auth.js";
import { buildRestApp } from "./server.js";
import { UploadingApi, servesUploads } from "./uploading-api.js";
import { uploadStore } from "../../node/uploads.js";
import { apiFile, discoveryFile, generateToken, removeApiRuntime, writeApiRuntime } from "../../node/api-token.js";
import { dashboardOptions } from "../web/options.js";

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

/** Options: a scenario store to use instead of the mode's own (tests). */
export interface RestStartOptions {
  store?: ScenarioStore;
  /** The node's telemetry: the dashboard's live charts read its per-interval results. */
  telemetry?: Telemetry;
}

/**
 * Listens on `api_host:api_port` (port 0: a free one) in front of `api`. Throws ConfigError off loopback without
 * `api_token`, or with only one of the TLS files. In dist mode uploads go to the cluster's bucket over a NATS
 * connection of its own, opened on the first upload or listing.
 */
export async function startRestServer(
  api: NodeApi,
  settings: NodeSettings,
  log: Logger,
  opts: RestStartOptions = {},
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
  // the same lazily opened store as the node's own APIs (node/uploads.ts); a test may hand in its own
  // (opened on first use: unused, it costs nothing)
  const uploads = uploadStore(settings, api.mode !== "local", log);
  const given = opts.store;
  const storeFactory = (): Promise<ScenarioStore> => (given ? Promise.resolve(given) : uploads.get());
  const workDir = resolve(join(nodeDataDir(settings), "upload-check"));
  const auth = settings.api_auth ?? "token";
  const generated = auth === "token" && settings.api_token === "";
  const token = auth === "off" ? "" : settings.api_token || generateToken();
  const app = await buildRestApp({
    // the node's APIs (nodeApis) serve uploads already, with the store every other front end uses
    api: servesUploads(api) && !opts.store ? api : new UploadingApi(api, storeFactory, workDir, settings.scenarios_dir),
    token,
    names: { listenHost: settings.api_host, allowedHosts: settings.api_allowed_hosts ?? [] },
    uploads: settings.api_uploads ?? true,
    log,
    tls: settings.api_tls_cert ? { cert: settings.api_tls_cert, key: settings.api_tls_key } : undefined,
    dashboard: dashboardOptions(
      settings,
      storeFactory,
      opts.telemetry ? { telemetry: opts.telemetry, mode: api.mode } : undefined,
    ),
  });
  await app.listen({ host: settings.api_host, port: settings.api_port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : settings.api_port;
  const host = settings.api_host.includes(":") ? `[${settings.api_host}]` : settings.api_host;
  const url = `${settings.api_tls_cert ? "https" : "http"}://${host}:${port}`;
  // the token goes to the runtime files (0600) so bin/amoc on this machine finds it; the log says only where
  const tokenFile = apiFile(nodeDataDir(settings));
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
      await uploads.close();
    },
  };
}
