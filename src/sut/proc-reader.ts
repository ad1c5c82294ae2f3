/** The /proc files the process sampler reads, behind an interface so unit tests hand it fixed text. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcReader {
  /** A file's text (throws when it cannot be read, e.g. the process is gone). */
  read(path: string): string;
  /** A directory's entries. */
  list(path: string): string[];
  /** A symbolic link's target (an fd's `socket:[inode]`). */
  link(path: string): string;
}

/** The real /proc. */
export const systemProc: ProcReader = {
  read: (path) => readFileSync(path, "utf8"),
  list: (path) => readdirSync(path),
  link: (path) => readlinkSync(path),
};
