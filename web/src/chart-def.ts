/** What a live chart draws (charts.ts): kept apart from the DOM code so chart definitions can be unit-tested. */
import type { Frame } from "../../src/api/web/wire.js";

export interface ChartDef {
  id: string;
  title: string;
  unit: string;
  /** Join points across seconds without a value (counts do; a timing without samples is a gap). */
  spanGaps?: boolean;
  /** Series names and how to read each from a frame. */
  series: () => Array<{ label: string; get: (f: Frame) => number | null }>;
}
