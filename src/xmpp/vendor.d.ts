// Minimal declarations for the xmpp.js sub-packages composed in client-factory.ts that ship no types.
// Kept loose on purpose: client-factory.ts is the one place that touches them and wraps them in typed code.
declare module "@xmpp/tcp";
declare module "@xmpp/tls";
declare module "@xmpp/tls/lib/Socket.js";
declare module "@xmpp/websocket";
declare module "@xmpp/starttls";
declare module "@xmpp/sasl-plain";
declare module "@xmpp/iq/caller.js";
declare module "@xmpp/iq/callee.js";
declare module "saslmechanisms";
