/** The in-process event bus: the core emits typed events; metrics, summaries and logs subscribe. */

/** Why a user ended. */
export type UserEndReason = "finished" | "removed" | "crashed";

/** Every event and its payload. */
export interface TelemetryEvents {
  "user.started": { id: number; lagMs: number };
  "user.stopped": { id: number; reason: UserEndReason };
  "user.crashed": { id: number; phase: string; message: string };
  "scenario.init": { scenario: string; durationMs: number; ok: boolean; message?: string };
  "scenario.terminate": { scenario: string; durationMs: number; ok: boolean; message?: string };
  "controller.state": { state: string; scenario: string | null };
  "controller.users": { running: number; started: number; finished: number; crashed: number; removed: number };
  /** A run event: do, add, remove, stop, settings; the annotations source. */
  "run.event": { kind: "do" | "add" | "remove" | "stop" | "settings" | "node_up" | "node_down"; data: Record<string, unknown> };
  /** A measurement from the core, the XMPP helpers or a scenario's `ctx.metrics`. */
  metric: { kind: "count" | "timing" | "gauge"; name: string; value: number };
}

export type TelemetryName = keyof TelemetryEvents;
type Handler<K extends TelemetryName> = (payload: TelemetryEvents[K]) => void;

/** A synchronous, typed event bus. Emitting an event nobody listens to costs one map lookup. */
export class Telemetry {
  private readonly handlers = new Map<TelemetryName, Array<Handler<never>>>();

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends TelemetryName>(name: K, fn: Handler<K>): () => void {
    const list = this.handlers.get(name) ?? [];
    list.push(fn as Handler<never>);
    this.handlers.set(name, list);
    return () => {
      const cur = this.handlers.get(name);
      if (!cur) return;
      const i = cur.indexOf(fn as Handler<never>);
      if (i >= 0) cur.splice(i, 1);
    };
  }

  /** True when someone listens: lets hot paths skip building payloads. */
  has(name: TelemetryName): boolean {
    const l = this.handlers.get(name);
    return l !== undefined && l.length > 0;
  }

  /** Delivers to every handler; a throwing handler never breaks the emitter. */
  emit<K extends TelemetryName>(name: K, payload: TelemetryEvents[K]): void {
    const list = this.handlers.get(name);
    if (!list) return;
    for (const fn of list) {
      try {
        (fn as Handler<K>)(payload);
      } catch {
        // a subscriber's bug must not crash a user or the controller
      }
    }
  }
}
