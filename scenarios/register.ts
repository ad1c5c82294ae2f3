/**
 * register: XEP-0077 in-band registration of the user (an existing account counts as xmpp.registration_conflicts,
 * not as a failure), then login with the new account and presence. The account name comes from `user_template`
 * so registrations do not collide with the provisioned user_<id> accounts.
 */
import { defineScenario } from "amoc-ts";
import { connectUser, fromTemplate } from "amoc-ts/xmpp";

export default defineScenario({
  variables: {
    user_template: {
      default: "reg_<id>",
      doc: "account name to register; <id> is the user ID",
      verify: (v: string) => v.includes("<id>") || "must contain <id>",
    },
    password_template: { default: "password_<id>", doc: "password of the registered account" },
  },
  async start(id, _state, ctx) {
    ctx.phase = "register";
    const user = await connectUser(ctx, {
      register: true,
      username: fromTemplate(ctx.vars.user_template, id),
      password: fromTemplate(ctx.vars.password_template, id),
    });
    try {
      await user.sendPresence();
    } finally {
      await user.close();
    }
  },
});
