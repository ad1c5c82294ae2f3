/** Settings of the lean XMPP client: endpoints, credentials, TLS, timeouts (src/xmpp/). */
import { setting } from "./setting.js";

export const XMPP_SETTINGS = {
  xmpp_servers: setting({
    doc: "XMPP endpoints (xmpp://, xmpps://, ws://, wss://, BOSH http(s)://host/http-bind), comma-separated; user id picks one",
    format: "xmpp-url-list",
    default: ["xmpp://127.0.0.1:5222"],
    run: true,
  }),
  xmpp_domain: setting({
    doc: "XMPP domain of the users ('' = the server's host name)",
    format: "xmpp-domain",
    default: "localhost",
    run: true,
  }),
  xmpp_user_template: setting({
    doc: "user name template; <id> is replaced by the user id",
    format: "user-template",
    default: "user_<id>",
    run: true,
  }),
  xmpp_password_template: setting({
    doc: "password template; <id> is replaced by the user id",
    format: "non-empty",
    default: "password_<id>",
    run: true,
  }),
  xmpp_sasl_mechanism: setting({
    doc: "SASL mechanism: PLAIN, SCRAM-SHA-1, SCRAM-SHA-256 or auto (the strongest offered)",
    format: "sasl-mechanism",
    default: "PLAIN",
    run: true,
  }),
  xmpp_starttls: setting({
    doc: "negotiate STARTTLS on xmpp:// endpoints (for servers that require encryption on 5222)",
    format: "bool",
    default: false,
    run: true,
  }),
  xmpp_tls_verify: setting({
    doc: "verify the server certificate (turn off only for test servers)",
    format: "bool",
    default: true,
    run: true,
  }),
  xmpp_connect_timeout: setting({
    doc: "ms allowed for one connection attempt (TCP, TLS, stream, auth, bind)",
    format: "timeout-ms",
    default: 20_000,
    run: true,
  }),
  xmpp_connect_retries: setting({
    doc: "extra connection attempts after a failed one (a count, 0 = none)",
    format: "non-negative-int",
    default: 0,
    run: true,
  }),
  xmpp_stream_management: setting({
    doc: "enable XEP-0198 stream management when the server offers it",
    format: "bool",
    default: false,
    run: true,
  }),
};
