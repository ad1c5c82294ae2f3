import { describe, expect, it } from "vitest";
import { ScramSha1, ScramSha256 } from "../../src/xmpp/scram.js";

describe("SCRAM", () => {
  it("SCRAM-SHA-1 produces the client messages of the RFC 5802 example", async () => {
    const m = new ScramSha1({ genNonce: () => "fyko+d2lbbFgONRv9qkxdawL" });
    const cred = { username: "user", password: "pencil" };
    expect(m.response(cred)).toBe("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    m.challenge("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    expect(await m.response(cred)).toBe(
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    );
    expect(() => m.challenge("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")).not.toThrow();
  });

  it("produces the client messages of the RFC 7677 example and accepts its server signature", async () => {
    const m = new ScramSha256({ genNonce: () => "rOprNGfwEbeRWgbNEkqO" });
    const cred = { username: "user", password: "pencil" };
    expect(m.response(cred)).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    m.challenge("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    expect(await m.response(cred)).toBe(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    expect(() => m.challenge("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).not.toThrow();
  });

  it("rejects a server signature that does not match", async () => {
    const m = new ScramSha256({ genNonce: () => "rOprNGfwEbeRWgbNEkqO" });
    const cred = { username: "user", password: "pencil" };
    expect(m.response(cred)).toBe("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    m.challenge("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    await m.response(cred);
    expect(() => m.challenge("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")).toThrow(/signature does not match/);
  });
});
