/** `amoc upload FILE [--name N] [--url URL] [--token-file FILE] [--json]`: uploads a scenario to a node's REST API. */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { UsageError, errorMessage } from "../../errors.js";
import { parseArgs } from "../attach/target.js";
import { RemoteError, defaultUrl, remoteUpload } from "../rest/client.js";
import { clientToken } from "../rest/client-token.js";

export const UPLOAD_USAGE = `usage: amoc upload FILE [--name N] [--url http://host:4000] [--token-file F] [--json]
  uploads the scenario FILE (TypeScript) to a node's REST API: checked there (compiles, loads, exports start,
  variable defaults pass verify) and stored on every node of its cluster. N defaults to FILE's name; --url to
  http://127.0.0.1:$AMOC_API_PORT (4000). The token: --token-file F, else $AMOC_API_TOKEN, else the one a node on this
  machine wrote for the URL's port (--token T still works but shows in ps). Exit 0 uploaded, 2 refused, 1 unreachable`;

/** Reads FILE, uploads it and prints the version (or every problem with FILE's line and column). */
export async function uploadCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const a = parseArgs(args, ["name", "url", "token", "token-file"], ["json", "help"], UPLOAD_USAGE);
  if (a.flags.has("help")) {
    process.stdout.write(UPLOAD_USAGE + "\n");
    return 0;
  }
  const [file, ...extra] = a.positional;
  if (!file || extra.length)
    throw new UsageError(file ? `unexpected arguments: ${extra.join(" ")}` : "upload needs a FILE", UPLOAD_USAGE);
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${errorMessage(e)}`, "give the path of a scenario's .ts file");
  }
  const name = a.values.name ?? basename(file, extname(file));
  const url = a.values.url ?? defaultUrl(env);
  try {
    const r = await remoteUpload(
      url,
      name,
      source,
      clientToken({ url, token: a.values.token, tokenFile: a.values["token-file"], env }),
    );
    if (a.flags.has("json")) process.stdout.write(JSON.stringify(r) + "\n");
    else
      process.stdout.write(
        `uploaded ${r.name} version ${r.version}${r.unchanged ? " (unchanged: the same source was already there)" : ""} to ${url}\n`,
      );
    return 0;
  } catch (e) {
    // problems point into FILE, where the user edits
    if (e instanceof RemoteError && e.problems.length) {
      process.stderr.write(
        `amoc: ${file} was refused:\n${e.problems.map((p) => `  ${file}:${p.line ?? 0}:${p.column ?? 0}: ${p.message}`).join("\n")}\n`,
      );
      return 2;
    }
    throw e;
  }
}
