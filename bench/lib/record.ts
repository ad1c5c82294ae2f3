/**
 * The shell benchmarks' way to record figures (bench/lib/results.ts):
 *
 *   node --import tsx bench/lib/record.ts COMMAND "LOAD_BEFORE" 'FIGURE=VALUE|UNIT|WHAT' ...
 *
 * COMMAND is what a reader runs to measure the figures again; LOAD_BEFORE the 1-, 5- and 15-minute load averages read
 * before the run ("0.31 0.40 0.52"). A VALUE that parses as a number is stored as one.
 */
import { recordFigures, type BenchFigure } from "./results.js";

const [command, load, ...specs] = process.argv.slice(2);
if (!command || load === undefined || specs.length === 0)
  throw new Error("usage: record.ts COMMAND 'LOAD_BEFORE' 'FIGURE=VALUE|UNIT|WHAT' ...");
const figures: BenchFigure[] = specs.map((spec) => {
  const m = /^([^=]+)=([^|]*)\|([^|]*)\|(.*)$/.exec(spec);
  if (!m) throw new Error(`expected FIGURE=VALUE|UNIT|WHAT, got ${spec}`);
  const raw = m[2]!.trim();
  const value = raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { figure: m[1]!, value, unit: m[3]!, command, what: m[4]! };
});
recordFigures(figures, load.split(/\s+/).filter(Boolean).map(Number));
