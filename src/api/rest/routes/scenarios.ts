/**
 * The scenario routes: the list (amoc 2.x's names plus details with versions), one scenario's variables and their
 * defaults, and the upload of a scenario's TypeScript source, which the Node API checks and stores.
 */
import type { FastifyInstance } from "fastify";
import { AmocError } from "../../../errors.js";
import type { NodeApi } from "../../../node/node-api.js";
import type { ScenarioInfoReply, ScenarioListReply } from "../../web/wire.js";
import { routeSchemas as S } from "../schemas.js";
import { emptyBody } from "./empty-body.js";

/** Registers GET /scenarios, /scenarios/info/:name, /scenarios/defaults/:name and PUT /scenarios/upload. */
export async function registerScenarioRoutes(
  app: FastifyInstance,
  api: NodeApi,
  o: { uploads: boolean },
): Promise<void> {
  // the dashboard reads these two: their replies are typed with its wire shapes
  app.get("/scenarios", { schema: S.scenarios }, async (): Promise<ScenarioListReply> => {
    const list = await api.scenarios();
    return { scenarios: list.map((s) => s.name), details: list };
  });
  type Info = ScenarioInfoReply & { parameters: Record<string, unknown> };
  app.get<{ Params: { name: string } }>(
    "/scenarios/info/:name",
    { schema: S.scenarioInfo },
    async (req): Promise<Info> => {
      const d = await api.scenarioInfo(req.params.name);
      return {
        ...d,
        parameters: Object.fromEntries(
          d.variables.map((v) => [v.name, { description: v.doc, default_value: v.default, updatable: v.updatable }]),
        ),
      };
    },
  );
  app.get<{ Params: { name: string } }>("/scenarios/defaults/:name", { schema: S.scenarioDefaults }, async (req) => ({
    settings: await api.scenarioDefaults(req.params.name),
  }));

  // the upload takes the raw body whatever its content type (curl -T sends none; JSON is not parsed here)
  await app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
    child.put<{ Querystring: { name: string }; Body: string }>(
      "/scenarios/upload",
      // refused uploads are refused before the body is read or anything in it is checked (after the guard and auth)
      { schema: S.upload, onRequest: o.uploads ? [] : [refuseUploads], preValidation: emptyBody("") },
      async (req) => ({ compile: "ok", ...(await api.upload(req.query.name, req.body)) }),
    );
  });
}

async function refuseUploads(): Promise<void> {
  throw new AmocError(
    "API_UPLOADS_OFF",
    "this node refuses scenario uploads (an uploaded scenario is code that runs with the node's rights)",
    "upload where AMOC_API_UPLOADS is on (the default), or put the scenario in the node's scenarios directory",
  );
}
