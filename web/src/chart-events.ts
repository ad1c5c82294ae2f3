/** Run events (start, stop, add, remove, settings, node down/up, breach) drawn on every live chart. */
import type uPlot from "uplot";
import type { FeedEvent } from "../../src/api/web/wire.js";

const EVENT_COLORS: Record<string, string> = {
  start: "#1a7f37",
  stop: "#cf222e",
  add: "#0969da",
  remove: "#9a6700",
  settings: "#8250df",
  node_down: "#cf222e",
  node_up: "#1a7f37",
  breach: "#bc4c00",
};

/** Draws every run event as a vertical dashed line with its label. */
export function eventsPlugin(events: () => FeedEvent[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const ctx = u.ctx;
        const { top, height } = u.bbox;
        ctx.save();
        ctx.font = `${10 * devicePixelRatio}px sans-serif`;
        for (const e of events()) {
          const x = u.valToPos(e.t / 1000, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.strokeStyle = ctx.fillStyle = EVENT_COLORS[e.kind] ?? "#6e7781";
          ctx.setLineDash([4, 4]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.fillText(e.text, x + 3, top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}
