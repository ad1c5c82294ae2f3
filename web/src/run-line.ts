/** The header's one line about the node's run, from a live frame or from `GET /status` before the first frame. */

/** What the line needs of `GET /status` (the Node API's status). */
export interface StatusReply {
  mode: string;
  run: { scenario: string; state: string; version?: string } | null;
  users: { running: number; started: number; crashed: number };
}

/** `dist · one_to_one @abcd1234 · running · running 10 · started 10 · crashed 0`, or `local · no run`. */
export function runLine(s: StatusReply, error?: string): string {
  if (error) return `status failed: ${error}`;
  const r = s.run;
  if (!r) return `${s.mode} · no run`;
  const version = r.version ? ` @${r.version.slice(0, 8)}` : "";
  return `${s.mode} · ${r.scenario}${version} · ${r.state} · running ${s.users.running} · started ${s.users.started} · crashed ${s.users.crashed}`;
}
