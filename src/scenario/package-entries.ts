/** The package entries scenarios import (`amoc-ts`, `amoc-ts/xmpp`, `amoc-ts/xmppjs`), mapped to this checkout's files. */

/** Specifier -> module file URL; the same files package.json `exports` names. */
export const PACKAGE_ENTRIES: Readonly<Record<string, string>> = {
  "amoc-ts": new URL("./api.ts", import.meta.url).href,
  "amoc-ts/xmpp": new URL("../xmpp/index.ts", import.meta.url).href,
  "amoc-ts/xmppjs": new URL("../xmppjs/index.ts", import.meta.url).href,
};

/** Entries whose names are taken for later versions; importing one says so instead of "not found". */
export const RESERVED_ENTRIES: Readonly<Record<string, string>> = {};

/** The package's own name: every `amoc-ts` and `amoc-ts/...` import is resolved here, for any importer. */
export const PACKAGE_NAME = "amoc-ts";

/** The file URL an `amoc-ts` specifier maps to; throws an Error with code ERR_MODULE_NOT_FOUND for others of ours. */
export function resolvePackageEntry(specifier: string): string | undefined {
  if (specifier !== PACKAGE_NAME && !specifier.startsWith(`${PACKAGE_NAME}/`)) return undefined;
  const url = PACKAGE_ENTRIES[specifier];
  if (url) return url;
  const reserved = RESERVED_ENTRIES[specifier];
  const why = reserved ?? `is not an entry of ${PACKAGE_NAME} (entries: ${Object.keys(PACKAGE_ENTRIES).join(", ")})`;
  throw Object.assign(new Error(`Cannot find package '${specifier}': ${specifier} ${why}`), {
    code: "ERR_MODULE_NOT_FOUND",
  });
}
