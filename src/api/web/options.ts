/** The dashboard's options for a node's REST server: what it adds to the Node API (this process's health). */
import { processHealth } from "../../metrics/process-health.js";
import type { DashboardOptions } from "./dashboard.js";

/** Dashboard options of a node: the live view shows this process's health in its row. */
export function dashboardOptions(): Omit<DashboardOptions, "api" | "tickets"> {
  const health = processHealth();
  return { health: () => health.sample() };
}
