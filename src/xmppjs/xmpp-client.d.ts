/** The part of @xmpp/client 0.14 (untyped) that amoc-ts/xmppjs uses and hands to scenarios. */
declare module "@xmpp/client" {
  import type { EventEmitter } from "node:events";
  import type { Element } from "@xmpp/xml";
  import xml from "@xmpp/xml";
  import type { JID } from "@xmpp/jid";

  /** `authenticate(credentials, mechanism)` and the mechanisms the server offers. */
  export type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;

  export interface ClientOptions {
    service: string;
    domain?: string;
    resource?: string;
    username?: string;
    password?: string;
    credentials?: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
    timeout?: number;
  }

  /** An xmpp.js client: an EventEmitter with `stanza`, `online`, `offline`, `error`, `status` events. */
  export interface Client extends EventEmitter {
    jid: JID | null;
    status: string;
    start(): Promise<JID>;
    stop(): Promise<void>;
    send(...elements: Element[]): Promise<void>;
    sendReceive(element: Element, timeoutMs?: number): Promise<Element>;
    reconnect: { stop(): void };
    iqCaller: {
      request(element: Element, timeoutMs?: number): Promise<Element>;
      get(child: Element, to?: string, timeoutMs?: number): Promise<Element>;
      set(child: Element, to?: string, timeoutMs?: number): Promise<Element>;
    };
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: unknown) => unknown): void;
      set(ns: string, name: string, handler: (ctx: unknown) => unknown): void;
    };
    middleware: {
      use(fn: (ctx: { stanza: Element }, next: () => Promise<unknown>) => unknown): void;
      filter(fn: (ctx: { stanza: Element }, next: () => Promise<unknown>) => unknown): void;
    };
  }

  export function client(options: ClientOptions): Client;
  export { xml };
}
