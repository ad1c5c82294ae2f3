/**
 * SCRAM-SHA-256 (RFC 7677) for xmpp.js's SASL factory, which ships only SCRAM-SHA-1. Same shape as the
 * `sasl-scram-sha-1` mechanism: `response(cred)` per stage, `challenge(text)` stores the server's values.
 * Uses node:crypto; the PBKDF2 runs in the libuv pool, like SCRAM-SHA-1's WebCrypto one.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64");
const hmac = (key: Buffer, data: string | Buffer) => createHmac("sha256", key).update(data).digest();
const saslname = (s: string) => s.replace(/=/g, "=3D").replace(/,/g, "=2C");

function parse(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

interface Credentials {
  username?: string;
  password?: string;
}

/** The mechanism object the SASL factory instantiates per authentication. */
export class ScramSha256 {
  static readonly Mechanism = ScramSha256;
  readonly name = "SCRAM-SHA-256";
  readonly clientFirst = true;
  private stage: "initial" | "challenge" | "final" = "initial";
  private clientFirstBare = "";
  private cnonce = "";
  private server: Record<string, string> = {};
  private serverFirst = "";
  private expectedServerSignature: Buffer | undefined;
  private readonly genNonce: () => string;

  constructor(options: { genNonce?: () => string } = {}) {
    this.genNonce = options.genNonce ?? (() => randomBytes(18).toString("base64url"));
  }

  response(cred: Credentials): string | Promise<string> {
    if (this.stage === "initial") {
      this.cnonce = this.genNonce();
      this.clientFirstBare = `n=${saslname(cred.username ?? "")},r=${this.cnonce}`;
      this.stage = "challenge";
      return `n,,${this.clientFirstBare}`;
    }
    if (this.stage === "challenge") return this.clientFinal(cred);
    return "";
  }

  challenge(text: string): this {
    if (this.stage === "final" || this.expectedServerSignature) {
      const v = parse(text).v;
      if (v && this.expectedServerSignature && !timingSafeEqual(Buffer.from(v, "base64"), this.expectedServerSignature)) {
        throw new Error("SCRAM-SHA-256: the server's signature does not match");
      }
      return this;
    }
    this.serverFirst = text;
    this.server = parse(text);
    return this;
  }

  private async clientFinal(cred: Credentials): Promise<string> {
    const { r: nonce, s: salt, i: iter } = this.server;
    if (!nonce?.startsWith(this.cnonce) || !salt || !iter) throw new Error("SCRAM-SHA-256: malformed server challenge");
    const salted = await new Promise<Buffer>((res, rej) =>
      pbkdf2(cred.password ?? "", Buffer.from(salt, "base64"), Number(iter), 32, "sha256", (e, k) => (e ? rej(e) : res(k))),
    );
    const clientKey = hmac(salted, "Client Key");
    const storedKey = createHash("sha256").update(clientKey).digest();
    const withoutProof = `c=${b64("n,,")},r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] as number) ^ (signature[i] as number);
    this.expectedServerSignature = hmac(hmac(salted, "Server Key"), authMessage);
    this.stage = "final";
    return `${withoutProof},p=${proof.toString("base64")}`;
  }
}
