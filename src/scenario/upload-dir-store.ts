/**
 * Uploaded sources in this node's data directory (local mode): `<dir>/<version>/<name>.ts` and an index of the
 * newest version of each name. Implements `ScenarioStore` (src/cluster/scenario-store.ts) structurally.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ScenarioError } from "../errors.js";

/** One uploaded scenario's newest version. */
interface Entry {
  name: string;
  version: string;
  uploadedAt: string;
}

/** A directory of uploaded sources. */
export class DirScenarioStore {
  constructor(private readonly dir: string) {}

  private get indexFile(): string {
    return join(this.dir, "index.json");
  }

  private readIndex(): Record<string, Entry> {
    if (!existsSync(this.indexFile)) return {};
    return JSON.parse(readFileSync(this.indexFile, "utf8")) as Record<string, Entry>;
  }

  private path(name: string, version: string): string {
    return join(this.dir, version, `${name}.ts`);
  }

  async put(name: string, version: string, source: string): Promise<{ unchanged: boolean }> {
    const index = this.readIndex();
    if (Object.hasOwn(index, name) && index[name]?.version === version) return { unchanged: true };
    const file = this.path(name, version);
    mkdirSync(join(this.dir, version), { recursive: true });
    if (!existsSync(file)) writeFileSync(file, source);
    index[name] = { name, version, uploadedAt: new Date().toISOString() };
    const tmp = `${this.indexFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(index, null, 1));
    renameSync(tmp, this.indexFile);
    return { unchanged: false };
  }

  async list(): Promise<Entry[]> {
    return Object.values(this.readIndex()).sort((a, b) => a.name.localeCompare(b.name));
  }

  async latest(name: string): Promise<Entry | null> {
    const index = this.readIndex();
    return Object.hasOwn(index, name) ? (index[name] as Entry) : null;
  }

  async file(name: string, version: string): Promise<string> {
    const file = this.path(name, version);
    if (!existsSync(file)) throw new ScenarioError("SCENARIO_NOT_FOUND", `uploaded scenario ${name} version ${version} is not in ${this.dir}`, "upload it again (PUT /scenarios/upload)");
    return file;
  }
}
