/** Kernel memory of the users' sockets, for the XMPP generator benchmarks (bench/lib/xmpp-figures.ts). */
import { existsSync, readFileSync } from "node:fs";
import type { KernelMemory } from "./xmpp-validity.js";

/**
 * The kernel objects of one TCP socket held by a process (the socket, its inode, the file, the epoll item, the
 * dentry), from /proc/slabinfo's object sizes: the same for every generator, and not in skmem or sockstat.
 */
function slabBytesPerSocket(): number | null {
  try {
    const size = new Map<string, number>();
    for (const l of readFileSync("/proc/slabinfo", "utf8").split("\n")) {
      const f = l.split(/\s+/);
      if (f.length > 4) size.set(f[0]!, Number(f[3]));
    }
    const parts = ["TCP", "sock_inode_cache", "filp", "eventpoll_epi", "dentry"].map((n) => size.get(n));
    return parts.every((x) => x !== undefined && Number.isFinite(x)) ? parts.reduce((a, b) => a! + b!, 0)! : null;
  } catch {
    return null;
  }
}
const SLAB = slabBytesPerSocket();

/** Bytes the kernel holds for one connected user's socket, from the ss snapshot and the sockstat samples. */
export function kernelMemory(ssFile: string, basePages: number, peakPages: number, connected: number): KernelMemory {
  const [, sockets, bytes] = existsSync(ssFile) ? readFileSync(ssFile, "utf8").trim().split(/\s+/).map(Number) : [];
  const [base, peak] = [basePages, peakPages];
  const round = (v: number) => Math.round(v);
  return {
    ss_sockets: sockets ?? null,
    ss_bytes_per_user: sockets ? round(bytes! / sockets) : null,
    slab_bytes_per_socket: SLAB,
    sockstat_bytes_per_user: Number.isFinite(peak - base)
      ? round(((peak - base) * 4096) / Math.max(1, connected))
      : null,
  };
}
