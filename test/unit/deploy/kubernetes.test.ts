/**
 * The Kubernetes manifests of deploy/kubernetes/ (issue 24): every object of every resource kustomization.yaml lists
 * passes its Kubernetes schema (kubernetes-models 4.5 `validate()`), and every AMOC_ setting and amoc command-line
 * flag they use exists (src/config's schema, `bin/amoc help`'s commands). There is no cluster here: validated, not run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { USAGE } from "../../../src/api/commands/help.js";
import { RESULTS_USAGE } from "../../../src/api/run/flags.js";
import { RUN_USAGE } from "../../../src/api/run/options.js";
import { SCHEMA } from "../../../src/config/schema.js";

const DIR = join(import.meta.dirname, "../../../deploy/kubernetes");

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  [k: string]: unknown;
}

function objects(): { file: string; obj: K8sObject }[] {
  const kz = parse(readFileSync(join(DIR, "kustomization.yaml"), "utf8")) as { resources: string[] };
  return kz.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d) => ({ file, obj: d.toJS() as K8sObject })),
  );
}

/** kubernetes-models' class for an apiVersion and kind (core v1 lives at kubernetes-models/v1). */
async function modelOf(apiVersion: string, kind: string): Promise<new (o: unknown) => { validate(): void }> {
  const mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<
    string,
    new (o: unknown) => { validate(): void }
  >;
  const cls = mod[kind];
  if (!cls) throw new Error(`kubernetes-models has no ${apiVersion} ${kind}`);
  return cls;
}

function containers(obj: K8sObject): { image?: string; args?: string[]; env?: { name: string }[] }[] {
  const spec = obj.spec as { template?: { spec?: { containers?: [] } }; jobTemplate?: unknown } | undefined;
  return spec?.template?.spec?.containers ?? [];
}

describe("deploy/kubernetes", () => {
  const all = objects();

  it("holds the nats StatefulSet, the workers, the API Deployment and Service, the token Secret and the run Job", () => {
    const kinds = all.map(({ obj }) => `${obj.kind}/${obj.metadata.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "StatefulSet/nats",
        "StatefulSet/amoc-worker-a",
        "Deployment/amoc-api",
        "Service/amoc-api",
        "Secret/amoc-api-token",
        "Job/amoc-run",
      ]),
    );
  });

  it.each(objects().map(({ file, obj }) => [`${file} ${obj.kind}/${obj.metadata.name}`, obj] as const))(
    "%s passes its Kubernetes schema",
    async (_name, obj) => {
      const Model = await modelOf(obj.apiVersion, obj.kind);
      expect(() => new Model(obj).validate()).not.toThrow();
    },
  );

  it("rejects an object the schema forbids (the validator is really applied)", async () => {
    const Model = await modelOf("apps/v1", "StatefulSet");
    expect(() => new Model({ metadata: { name: "x" }, spec: { replicas: "three" } }).validate()).toThrow();
  });

  it("runs NATS as 3 replicas with JetStream, every amoc container with resources and a readiness probe", () => {
    const nats = all.find(({ obj }) => obj.kind === "StatefulSet" && obj.metadata.name === "nats")!.obj;
    expect((nats.spec as { replicas: number }).replicas).toBe(3);
    const conf = all.find(({ obj }) => obj.kind === "ConfigMap")!.obj as unknown as { data: Record<string, string> };
    expect(conf.data["nats.conf"]).toMatch(/jetstream \{/);
    for (const { obj } of all)
      for (const c of containers(obj) as { resources?: { requests?: object }; readinessProbe?: object }[]) {
        expect(c.resources?.requests, `${obj.kind}/${obj.metadata.name}`).toBeDefined();
        expect(c.readinessProbe, `${obj.kind}/${obj.metadata.name}`).toBeDefined();
      }
  });

  it("uses only AMOC_ settings that exist, and the worker's --procs comes from its CPU request", () => {
    const known = new Set(Object.keys(SCHEMA).map((k) => `AMOC_${k.toUpperCase()}`));
    for (const { obj } of all)
      for (const c of containers(obj))
        for (const e of c.env ?? [])
          if (e.name.startsWith("AMOC_") && e.name !== "AMOC_WORKER_PROCS")
            expect(known.has(e.name), `${obj.metadata.name}: ${e.name}`).toBe(true);
    const worker = containers(all.find(({ obj }) => obj.metadata.name === "amoc-worker-a")!.obj)[0] as {
      args: string[];
      env: { name: string; valueFrom?: { resourceFieldRef?: { resource: string } } }[];
    };
    expect(worker.args).toEqual(["worker", "--procs", "$(AMOC_WORKER_PROCS)"]);
    expect(worker.env.find((e) => e.name === "AMOC_WORKER_PROCS")?.valueFrom?.resourceFieldRef?.resource).toBe(
      "requests.cpu",
    );
  });

  it("runs amoc commands and flags that bin/amoc knows", () => {
    const flags = `${USAGE}\n${RUN_USAGE}\n${RESULTS_USAGE}`;
    for (const { obj } of all)
      for (const c of containers(obj)) {
        const [cmd, ...rest] = c.args ?? [];
        if (!cmd || c.image !== "amoc-ts") continue;
        expect(USAGE, `command ${cmd}`).toContain(`  ${cmd} `);
        for (const flag of rest.filter((a) => a.startsWith("--"))) expect(flags, flag).toContain(flag);
      }
  });
});
