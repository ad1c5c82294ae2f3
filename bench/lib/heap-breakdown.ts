/**
 * Where the bytes of one held user go, from a V8 heap snapshot of a node holding USERS users (bench/xmpp-hold.sh
 * with BENCH_HEAP_SNAPSHOT=1, see docs/memory.md):
 *
 *   node --max-old-space-size=4096 --import tsx bench/lib/heap-breakdown.ts FILE.heapsnapshot USERS [MIN_PER_USER]
 *
 * USERS is the number of users held, or the name of a class with one instance per held user (XmppUser): its count
 * in the snapshot is then the number of users (logins that failed left none).
 *
 * Prints, per kind of heap object (its constructor, closure name, or V8's internal type), how many there are per
 * user and their own (shallow) bytes per user, largest first, for the kinds with at least MIN_PER_USER (0.5) objects
 * per user: those that exist once (or more) per user. Then the retained bytes of one user's main objects (the
 * dominator tree: what would be freed with the object), averaged over all instances. Weak edges do not retain.
 * The snapshot counts the JS heap only: socket handles' native memory (libuv, the kernel) is not in it.
 */
import { readFileSync } from "node:fs";

const [file, usersArg, minArg] = process.argv.slice(2);
if (!file || !usersArg) throw new Error("usage: heap-breakdown.ts FILE.heapsnapshot USERS [MIN_PER_USER]");
const minPerUser = Number(minArg ?? 0.5);

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[]];
      edge_fields: string[];
      edge_types: [string[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}
const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
const meta = snap.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nType = meta.node_fields.indexOf("type");
const nName = meta.node_fields.indexOf("name");
const nSize = meta.node_fields.indexOf("self_size");
const nEdges = meta.node_fields.indexOf("edge_count");
const eType = meta.edge_fields.indexOf("type");
const eTo = meta.edge_fields.indexOf("to_node");
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const WEAK = edgeTypes.indexOf("weak");
const SHORTCUT = edgeTypes.indexOf("shortcut");
const nodes = snap.nodes;
const edges = snap.edges;
const N = nodes.length / NF;

/** The kind of a node: its type, and for objects and closures their constructor or function name. */
function kindOf(i: number): string {
  const type = nodeTypes[nodes[i * NF + nType]!]!;
  const name = snap.strings[nodes[i * NF + nName]!]!;
  switch (type) {
    case "object":
    case "closure":
    case "native":
    case "hidden":
    case "code":
    case "synthetic":
      return `${type}: ${name.length > 60 ? name.slice(0, 57) + "..." : name}`;
    default:
      return type;
  }
}

const firstEdge = new Uint32Array(N + 1);
for (let i = 0, e = 0; i < N; i++) {
  firstEdge[i] = e;
  e += nodes[i * NF + nEdges]! * EF;
  firstEdge[i + 1] = e;
}
const selfSize = (i: number) => nodes[i * NF + nSize]!;
const retains = (e: number) => {
  const t = edges[e + eType]!;
  return t !== WEAK && t !== SHORTCUT;
};

const usersGiven = /^\d+$/.test(usersArg) ? Number(usersArg) : 0;
// --- shallow sizes per kind
const byKind = new Map<string, { count: number; bytes: number }>();
let total = 0;
for (let i = 0; i < N; i++) {
  const k = kindOf(i);
  const s = selfSize(i);
  total += s;
  const v = byKind.get(k) ?? { count: 0, bytes: 0 };
  v.count++;
  v.bytes += s;
  byKind.set(k, v);
}

const users = usersGiven || (byKind.get(`object: ${usersArg}`)?.count ?? 0);
if (!users) throw new Error(`no users: ${usersArg} is neither a number nor a class in the snapshot`);
// --- dominators (Cooper, Harvey and Kennedy), from the root (node 0), over the retaining edges
const order = new Int32Array(N).fill(-1); // postorder number
const post: number[] = [];
{
  const stack: number[] = [0];
  const it = new Uint32Array(N);
  const seen = new Uint8Array(N);
  seen[0] = 1;
  for (let i = 0; i < N; i++) it[i] = firstEdge[i]!;
  while (stack.length) {
    const v = stack[stack.length - 1]!;
    let pushed = false;
    while (it[v]! < firstEdge[v + 1]!) {
      const e = it[v]!;
      it[v] = e + EF;
      if (!retains(e)) continue;
      const w = edges[e + eTo]! / NF;
      if (!seen[w]) {
        seen[w] = 1;
        stack.push(w);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      order[v] = post.length;
      post.push(v);
    }
  }
}
// predecessors of each reachable node
const predCount = new Uint32Array(N + 1);
for (let v = 0; v < N; v++) {
  if (order[v]! < 0) continue;
  for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += EF) if (retains(e)) predCount[edges[e + eTo]! / NF + 1]!++;
}
for (let i = 0; i < N; i++) predCount[i + 1]! += predCount[i]!;
const preds = new Uint32Array(predCount[N]!);
{
  const fill = predCount.slice(0, N);
  for (let v = 0; v < N; v++) {
    if (order[v]! < 0) continue;
    for (let e = firstEdge[v]!; e < firstEdge[v + 1]!; e += EF)
      if (retains(e)) {
        const w = edges[e + eTo]! / NF;
        preds[fill[w]!++] = v;
      }
  }
}
const idom = new Int32Array(N).fill(-1);
idom[0] = 0;
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (order[a]! < order[b]!) a = idom[a]!;
    while (order[b]! < order[a]!) b = idom[b]!;
  }
  return a;
};
for (let changed = true; changed;) {
  changed = false;
  for (let k = post.length - 2; k >= 0; k--) {
    const v = post[k]!;
    let d = -1;
    for (let p = predCount[v]!; p < predCount[v + 1]!; p++) {
      const u = preds[p]!;
      if (idom[u]! < 0) continue;
      d = d < 0 ? u : intersect(u, d);
    }
    if (d >= 0 && idom[v] !== d) {
      idom[v] = d;
      changed = true;
    }
  }
}
const retained = new Float64Array(N);
for (const v of post) retained[v]! += selfSize(v);
for (const v of post) if (v !== 0 && idom[v]! >= 0) retained[idom[v]!]! += retained[v]!;

// --- report
const kb = (b: number) => (b / 1024).toFixed(2);
const perUser = (x: number) => x / users;
console.log(
  `snapshot ${file}: ${N} nodes, ${kb(total)} KB of JS heap, ${users} users: ${perUser(total).toFixed(0)} B/user`,
);
console.log(`\nobjects per user (>= ${minPerUser}), own bytes (shallow):`);
console.log(`${"kind".padEnd(64)} ${"per user".padStart(9)} ${"B/user".padStart(8)}`);
const rows = [...byKind.entries()]
  .filter(([, v]) => v.count / users >= minPerUser)
  .sort((a, b) => b[1].bytes - a[1].bytes);
let sum = 0;
for (const [k, v] of rows) {
  sum += v.bytes;
  console.log(`${k.padEnd(64)} ${perUser(v.count).toFixed(2).padStart(9)} ${perUser(v.bytes).toFixed(0).padStart(8)}`);
}
console.log(`${"sum of the kinds above".padEnd(64)} ${"".padStart(9)} ${perUser(sum).toFixed(0).padStart(8)}`);

console.log(`\nretained bytes per instance (mean), kinds with >= ${minPerUser} per user, objects and closures:`);
const ret = new Map<string, { count: number; bytes: number }>();
for (let i = 0; i < N; i++) {
  const t = nodeTypes[nodes[i * NF + nType]!]!;
  if (t !== "object" && t !== "closure") continue;
  const k = kindOf(i);
  if ((byKind.get(k)?.count ?? 0) / users < minPerUser) continue;
  const v = ret.get(k) ?? { count: 0, bytes: 0 };
  v.count++;
  v.bytes += retained[i]!;
  ret.set(k, v);
}
for (const [k, v] of [...ret.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25))
  console.log(`${k.padEnd(64)} ${String(v.count).padStart(9)} ${(v.bytes / v.count).toFixed(0).padStart(8)} B each`);

// --- who holds the anonymous kinds: each such object by the kind of its immediate dominator and the edge from it
const edgeName = (e: number) => {
  const t = edgeTypes[edges[e + eType]!]!;
  const v = edges[e + meta.edge_fields.indexOf("name_or_index")]!;
  return t === "element" || t === "hidden" ? `[${v}]` : snap.strings[v]!;
};
console.log(
  `\nthe same objects by holder (immediate dominator) and the field it holds them by, >= ${minPerUser} per user:`,
);
const byHolder = new Map<string, { count: number; bytes: number; retained: number }>();
for (let i = 0; i < N; i++) {
  const d = idom[i]!;
  if (d < 0 || i === 0) continue;
  let via = "";
  for (let e = firstEdge[d]!; e < firstEdge[d + 1]!; e += EF)
    if (edges[e + eTo]! / NF === i) {
      via = edgeName(e);
      break;
    }
  const k = `${kindOf(i)} <- ${kindOf(d)}${via ? "." + via : ""}`;
  const v = byHolder.get(k) ?? { count: 0, bytes: 0, retained: 0 };
  v.count++;
  v.bytes += selfSize(i);
  v.retained += retained[i]!;
  byHolder.set(k, v);
}
console.log(
  `${"object <- holder.field".padEnd(100)} ${"per user".padStart(9)} ${"B/user".padStart(8)} ${"retained".padStart(9)}`,
);
for (const [k, v] of [...byHolder.entries()]
  .filter(([, v]) => v.count / users >= minPerUser)
  .sort((a, b) => b[1].bytes - a[1].bytes)
  .slice(0, 80))
  console.log(
    `${k.slice(0, 100).padEnd(100)} ${perUser(v.count).toFixed(2).padStart(9)} ${perUser(v.bytes).toFixed(0).padStart(8)} ${perUser(v.retained).toFixed(0).padStart(9)}`,
  );

// --- the strings: by their text with digits masked (user names, JIDs, ids), the most bytes first
console.log(`\nstrings by text (digits as N), >= ${minPerUser} per user:`);
const texts = new Map<string, { count: number; bytes: number }>();
for (let i = 0; i < N; i++) {
  const t = nodeTypes[nodes[i * NF + nType]!]!;
  if (t !== "string" && t !== "concatenated string" && t !== "sliced string") continue;
  const k = `${t}: ${JSON.stringify(snap.strings[nodes[i * NF + nName]!]!.slice(0, 60).replace(/\d+/g, "N"))}`;
  const v = texts.get(k) ?? { count: 0, bytes: 0 };
  v.count++;
  v.bytes += selfSize(i);
  texts.set(k, v);
}
for (const [k, v] of [...texts.entries()]
  .filter(([, v]) => v.count / users >= minPerUser)
  .sort((a, b) => b[1].bytes - a[1].bytes)
  .slice(0, 20))
  console.log(
    `${k.slice(0, 90).padEnd(90)} ${perUser(v.count).toFixed(2).padStart(9)} ${perUser(v.bytes).toFixed(0).padStart(8)}`,
  );
