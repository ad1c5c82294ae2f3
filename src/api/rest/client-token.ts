/**
 * Which token `bin/amoc upload/status --url` sends, first found wins: `--token-file FILE`, `--token T` (kept for
 * scripts, with a warning: every user on the machine sees it in `ps`), `AMOC_API_TOKEN`, and last the token a
 * node on this machine wrote for the URL's port (src/node/api-token.ts) — so the person at the keyboard types none.
 */
import { readFileSync } from "node:fs";
import { UsageError, errorMessage } from "../../errors.js";
import { localToken } from "../../node/api-token.js";

/** Where a command's token may come from. */
export interface TokenSources {
  token?: string;
  tokenFile?: string;
  url: string;
  env?: NodeJS.ProcessEnv;
  warn?: (line: string) => void;
}

/** The token to send, or undefined (then the server says 401 with a hint). */
export function clientToken(o: TokenSources): string | undefined {
  const env = o.env ?? process.env;
  if (o.tokenFile) {
    try {
      const t = readFileSync(o.tokenFile, "utf8").trim();
      // a runtime file of the node (api.json) holds JSON; a plain file holds the token alone
      return t.startsWith("{") ? String((JSON.parse(t) as { token?: unknown }).token ?? "") : t;
    } catch (e) {
      throw new UsageError(
        `cannot read the token file ${o.tokenFile}: ${errorMessage(e)}`,
        "give a file holding the token (or the node's api.json)",
      );
    }
  }
  if (o.token) {
    (o.warn ?? ((l) => process.stderr.write(l)))(
      "amoc: warning: --token is visible to every user of this machine (ps); use --token-file FILE or AMOC_API_TOKEN\n",
    );
    return o.token;
  }
  if (env.AMOC_API_TOKEN) return env.AMOC_API_TOKEN;
  return localToken(o.url, env);
}
