/**
 * Uploaded sources in this node's data directory (local mode): `<dir>/<version>/<name>.ts` and an index of the
 * newest version of each name. Implements `ScenarioStore` (src/cluster/scenario-store.ts) structurally.
 * The index is written atomically and durably (temp file, fsync, rename, fsync of the directory); one that is
 * unreadable anyway (a crash of an older version, a disk error, a hand edit) is rebuilt from the sources present —
 * the newest file of each name wins — with a warning, instead of making every listing fail.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { NAME_RE, UPLOAD_NAME_RE } from "../config/names.js";
import { ScenarioError } from "../errors.js";

/** One uploaded scenario's newest version. */
interface Entry {
  name: string;
  version: string;
  uploadedAt: string;
}

/** A directory of uploaded sources. */
export class DirScenarioStore {
  constructor(
    private readonly dir: string,
    private readonly warn: (msg: string) => void = (m) => process.stderr.write(`amoc: warning: ${m}\n`),
  ) {}

  private get indexFile(): string {
    return join(this.dir, "index.json");
  }

  private readIndex(): Record<string, Entry> {
    if (!existsSync(this.indexFile)) return {};
    try {
      const x = JSON.parse(readFileSync(this.indexFile, "utf8")) as unknown;
      if (x && typeof x === "object" && !Array.isArray(x) && Object.values(x).every(isEntry))
        return x as Record<string, Entry>;
      throw new Error("not an index of uploads");
    } catch (e) {
      this.warn(
        `the upload index ${this.indexFile} is unreadable (${(e as Error).message}): rebuilt from the uploaded files`,
      );
      const index = this.rebuild();
      this.writeIndex(index);
      return index;
    }
  }

  /** The newest `<version>/<name>.ts` of each name (by modification time). */
  private rebuild(): Record<string, Entry> {
    const index: Record<string, Entry> = {};
    const newest: Record<string, number> = {};
    for (const version of readdirSync(this.dir)) {
      if (!NAME_RE.test(version)) continue;
      const vdir = join(this.dir, version);
      if (!statSync(vdir).isDirectory()) continue;
      for (const f of readdirSync(vdir)) {
        const name = f.endsWith(".ts") ? f.slice(0, -3) : "";
        if (!UPLOAD_NAME_RE.test(name)) continue;
        const t = statSync(join(vdir, f)).mtimeMs;
        if ((newest[name] ?? -1) >= t) continue;
        newest[name] = t;
        index[name] = { name, version, uploadedAt: new Date(t).toISOString() };
      }
    }
    return index;
  }

  private writeIndex(index: Record<string, Entry>): void {
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.indexFile}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(index, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.indexFile);
    // the rename itself is durable only once the directory is synced
    const dfd = openSync(this.dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  private path(name: string, version: string): string {
    return join(this.dir, version, `${name}.ts`);
  }

  async put(name: string, version: string, source: string): Promise<{ unchanged: boolean }> {
    const index = this.readIndex();
    if (Object.hasOwn(index, name) && index[name]?.version === version) return { unchanged: true };
    const file = this.path(name, version);
    mkdirSync(join(this.dir, version), { recursive: true });
    if (!existsSync(file)) writeDurably(file, source);
    index[name] = { name, version, uploadedAt: new Date().toISOString() };
    this.writeIndex(index);
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
    if (!existsSync(file))
      throw new ScenarioError(
        "SCENARIO_NOT_FOUND",
        `uploaded scenario ${name} version ${version} is not in ${this.dir}`,
        "upload it again (PUT /scenarios/upload)",
      );
    return file;
  }
}

function isEntry(e: unknown): e is Entry {
  const x = e as Partial<Entry> | null;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.name === "string" &&
    typeof x.version === "string" &&
    typeof x.uploadedAt === "string"
  );
}

/** A source written before the index names it: a crash must not leave an index pointing at a half-written file. */
function writeDurably(file: string, text: string): void {
  const fd = openSync(file, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
