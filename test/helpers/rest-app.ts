/**
 * The REST app over a test Node API (fastify.inject; test/helpers/fake-node-api.ts, with the node's real scenario
 * catalog), shared by the rest-*.test.ts files: call useRestApp() at the top of a file, then read app and fake.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import { buildRestApp } from "../../src/api/rest/server.js";
import { createLogger } from "../../src/log.js";
import { FakeNodeApi } from "./fake-node-api.js";

const log = createLogger({ level: "silent", file: "", nodeName: "test" });

export const GOOD = `import { defineVariables } from "amoc-ts";
export const variables = defineVariables({ rounds: { default: 2, doc: "rounds per user", verify: (v: number) => v > 0 || "must be > 0" } });
export async function start(_id: number): Promise<void> {}
`;

// scratch and upload directories inside the project, so `amoc-ts` resolves from the uploaded files
const ROOT = resolve(".run/test");
let dir: string;
// live bindings: set by useRestApp's beforeAll, read by the test files
export let fake: FakeNodeApi;
export let app: FastifyInstance;

export async function build(token = ""): Promise<FastifyInstance> {
  return buildRestApp({ api: fake, token, log });
}

/** A fresh scratch directory, Node API and app for the calling test file, removed after it. */
export function useRestApp(): void {
  beforeAll(async () => {
    mkdirSync(ROOT, { recursive: true });
    dir = mkdtempSync(join(ROOT, "rest-"));
    fake = new FakeNodeApi({ dir, nodeName: "w1" });
    app = await build();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

export const upload = (name: string, body: string, headers: Record<string, string> = {}) =>
  app.inject({ method: "PUT", url: `/scenarios/upload?name=${encodeURIComponent(name)}`, payload: body, headers });
export const patch = (path: string, body?: unknown) =>
  app.inject({
    method: "PATCH",
    url: `/execution/${path}`,
    ...(body === undefined ? {} : { payload: body as object }),
  });
