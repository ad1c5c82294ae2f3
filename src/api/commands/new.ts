/** `amoc new NAME`: writes a commented starter scenario, NAME.ts in the current directory, that runs as is. */
import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { UsageError } from "../../errors.js";

export const NEW_USAGE = `usage: amoc new NAME
  writes NAME.ts in the current directory: a commented starter scenario (defineScenario, login, pings, a chat)
  that runs as is: amoc run ./NAME.ts --users 10 --repeat 1. NAME: letters, digits, _ and -; an existing file is
  never overwritten`;

/** The starter scenario's source. */
export function starterScenario(name: string): string {
  return `/**
 * ${name}: a starter scenario written by \`amoc new\`. Each user logs in, pings the server \`ping_count\` times,
 * sends itself \`message_count\` chats and waits for them, then logs out. Run it:
 *
 *   bin/amoc run ./${name}.ts --users 10 --repeat 1 --set ping_count=5
 *
 * Scenarios import only the package entries \`amoc-ts\` and \`amoc-ts/xmpp\` (bin/amoc resolves them anywhere).
 */
import { defineScenario, duration, nonNegative } from "amoc-ts";
import { NS, connectUser, is, iq, xml } from "amoc-ts/xmpp";

export default defineScenario({
  // Variables: set per run with --set name=value, AMOC_<NAME>, or the config file; ctx.vars has their types.
  variables: {
    ping_count: { default: 3, doc: "pings each user sends to the server", verify: nonNegative },
    message_count: { default: 2, doc: "chats each user sends to itself", verify: nonNegative },
    pause_ms: { default: 100, doc: "ms between two steps", verify: duration, updatable: true },
  },

  // Optional, once per node before any user starts; what it returns is every user's \`state\`.
  async init(ctx) {
    ctx.log.info({ msg: "${name}_init", ping_count: ctx.vars.ping_count });
    return { startedAt: Date.now() };
  },

  // Once per run of each user (repeat_num runs, repeat_interval ms apart). A throw counts as a crash of this user
  // only, reported with ctx.phase and the message.
  async start(id, state, ctx) {
    const user = await connectUser(ctx); // user_<id> / password_<id> on xmpp_servers (AMOC_XMPP_* settings)
    try {
      await user.sendPresence();

      ctx.phase = "ping";
      for (let i = 0; i < ctx.vars.ping_count; i++) {
        // an IQ round trip, timed as xmpp.iq.ping; an error reply rejects with IqError (its .condition)
        await user.request(iq.get(ctx.settings.xmpp_domain, xml("ping", { xmlns: NS.PING })), 5000);
        await ctx.sleep(ctx.vars.pause_ms); // rejects when the user is removed with force
      }

      ctx.phase = "chat";
      for (let i = 0; i < ctx.vars.message_count; i++) {
        await user.sendChat(user.jid, \`hello \${i + 1} from \${id}\`); // carries its send time: xmpp.message_ttd
        await user.waitFor(is.chat({ from: user.jid }), 5000, "my own chat");
        ctx.metrics.count("${name}.chats"); // your own metrics: count, timing (ms), gauge
      }
      ctx.log.debug({ msg: "${name}_done", id, since_init_ms: Date.now() - state.startedAt });
    } finally {
      await user.close();
    }
  },

  // Optional, after the last user of the run.
  async terminate(_state) {},
});
`;
}

/** Writes NAME.ts into `dir` (default: the current directory); refuses to overwrite. */
export async function newCommand(args: string[], dir = process.cwd()): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(NEW_USAGE + "\n");
    return 0;
  }
  const [raw, ...extra] = args;
  if (!raw || extra.length)
    throw new UsageError(raw ? `unexpected arguments: ${extra.join(" ")}` : "new needs a NAME", NEW_USAGE);
  const name = raw.endsWith(".ts") ? raw.slice(0, -3) : raw;
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name))
    throw new UsageError(
      `'${raw}' is not a scenario name`,
      "use letters, digits, _ and -, starting with a letter, e.g. amoc new my_chat",
    );
  const file = resolve(dir, `${name}.ts`);
  if (existsSync(file)) throw new UsageError(`${file} already exists`, "choose another NAME, or remove the file first");
  writeFileSync(file, starterScenario(name), { flag: "wx" });
  process.stdout.write(`wrote ${file}\nrun it: bin/amoc run ${file} --users 10 --repeat 1\n`);
  return 0;
}
