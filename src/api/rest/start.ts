/**
 * Starting the REST server of a node (`bin/amoc console`, `worker`, `start` when `api_port` is set): auth and TLS
 * settings checked first, uploads stored in the node's data directory (local) or the cluster's bucket (dist).
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
import { dashboardOptions } from "../web/options.js";

/** A listening REST server. */
export interface RestServer {
  url: string;
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
export async function startRestServer(api: NodeApi, settings: NodeSettings, log: Logger, opts: RestStartOptions = {}): Promise<RestServer> {
  checkAuthSettings(settings);
  if ((settings.api_tls_cert === "") !== (settings.api_tls_key === "")) {
    throw new ConfigError([{ key: "api_tls_key", source: "AMOC_API_TLS_CERT / AMOC_API_TLS_KEY", message: "set both the certificate and the key, or neither" }]);
  }
  // the same lazily opened store as the node's own APIs (node/uploads.ts); a test may hand in its own
  // (opened on first use: unused, it costs nothing)
  const uploads = uploadStore(settings, api.mode !== "local", log);
  const given = opts.store;
  const storeFactory = (): Promise<ScenarioStore> => (given ? Promise.resolve(given) : uploads.get());
  const workDir = resolve(join(nodeDataDir(settings), "upload-check"));
  const app = await buildRestApp({
    // the node's APIs (nodeApis) serve uploads already, with the store every other front end uses
    api: servesUploads(api) && !opts.store ? api : new UploadingApi(api, storeFactory, workDir, settings.scenarios_dir),
    token: settings.api_token,
    log,
    tls: settings.api_tls_cert ? { cert: settings.api_tls_cert, key: settings.api_tls_key } : undefined,
    dashboard: dashboardOptions(settings, storeFactory, opts.telemetry ? { telemetry: opts.telemetry, mode: api.mode } : undefined),
  });
  await app.listen({ host: settings.api_host, port: settings.api_port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : settings.api_port;
  const host = settings.api_host.includes(":") ? `[${settings.api_host}]` : settings.api_host;
  const url = `${settings.api_tls_cert ? "https" : "http"}://${host}:${port}`;
  log.info({ msg: "rest_listening", url, auth: settings.api_token ? "bearer" : "none", docs: `${url}/api-docs` });
  return {
    url,
    async close() {
      await app.close();
      await uploads.close();
    },
  };
}
