/**
 * The dashboard's HTTP client: the token lives in sessionStorage and goes in a bearer header, never in a URL. The
 * one exception is the URL the node prints at start (`/?token=...`): the page moves that token into sessionStorage
 * and takes it out of the address bar (and so out of the history) before anything else runs.
 */

const KEY = "amoc_token";

/** Moves `?token=` of the address bar into sessionStorage; the URL keeps its other parts. */
export function adoptTokenFromUrl(): void {
  const u = new URL(window.location.href);
  const t = u.searchParams.get("token");
  if (t === null) return;
  if (t) sessionStorage.setItem(KEY, t);
  u.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", u.pathname + u.search + u.hash);
}

/** The token of this tab ('' when none was asked for). */
export const token = {
  get: (): string => sessionStorage.getItem(KEY) ?? "",
  set: (t: string): void => sessionStorage.setItem(KEY, t),
  clear: (): void => sessionStorage.removeItem(KEY),
};

/** An answer: status and parsed JSON body (or text). */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  ok: boolean;
  body: T;
}

/** Called when the server refuses the token (401/403). */
let onAuthFailure: (status: number, message: string) => void = () => {};
export function setAuthFailureHandler(fn: (status: number, message: string) => void): void {
  onAuthFailure = fn;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const t = token.get();
  return t ? { ...extra, authorization: `Bearer ${t}` } : extra;
}

/** Calls the REST API; JSON bodies are sent as JSON, strings as they are. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  const init: RequestInit = { method, headers: headers() };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers = headers(
      typeof body === "string" ? { "content-type": "text/plain" } : { "content-type": "application/json" },
    );
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    /* not JSON: the text itself */
  }
  if (r.status === 401 || r.status === 403)
    onAuthFailure(r.status, (parsed as { message?: string }).message ?? r.statusText);
  return { status: r.status, ok: r.ok, body: parsed as T };
}

/**
 * Reads a server-sent event stream over fetch (EventSource cannot send a header), reconnecting after a loss.
 * Returns a function that stops it.
 */
export function stream(
  path: string,
  onEvent: (event: string, data: string) => void,
  onState: (live: boolean) => void,
): () => void {
  let stopped = false;
  let ctrl: AbortController | undefined;
  const run = async (): Promise<void> => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const r = await fetch(path, { headers: headers(), signal: ctrl.signal });
        if (r.status === 401 || r.status === 403) {
          onAuthFailure(r.status, "the token was refused");
          return;
        }
        if (!r.ok || !r.body) throw new Error(`stream: ${r.status}`);
        onState(true);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i: number;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = "message";
            const data: string[] = [];
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) event = line.slice(7);
              else if (line.startsWith("data: ")) data.push(line.slice(6));
            }
            if (data.length) onEvent(event, data.join("\n"));
          }
        }
      } catch {
        /* reconnect below */
      }
      onState(false);
      if (!stopped) await new Promise((res) => setTimeout(res, 2000));
    }
  };
  void run();
  return () => {
    stopped = true;
    ctrl?.abort();
  };
}
