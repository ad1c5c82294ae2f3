/** What a user on the node's machine does to reach its REST API: read the token the node wrote (src/node/api-token.ts). */
import { discoveryFile, readApiRuntime } from "../../src/node/api-token.js";

/** The token of the node serving REST on `port`, whose AMOC_RUN_DIR is `runDir` (it is written before /health answers). */
export function nodeToken(runDir: string, port: number): string {
  const r = readApiRuntime(discoveryFile(port, { AMOC_RUN_DIR: runDir }));
  if (!r) throw new Error(`no REST token file for port ${port} under ${runDir}`);
  return r.token;
}

/** fetch with the bearer token added. */
export function authedFetch(token: () => string): (input: string, init?: RequestInit) => Promise<Response> {
  return (input, init = {}) =>
    fetch(input, {
      ...init,
      headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token()}` },
    });
}
