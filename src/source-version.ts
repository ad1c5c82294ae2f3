/** The version of a scenario's source: the one rule the upload check, the bucket store and the workers hash by. */
import { createHash } from "node:crypto";

/** The first 16 hex digits of the source's SHA-256. */
export function sourceVersion(source: string): string {
  return createHash("sha256").update(source).digest("hex").slice(0, 16);
}
