/** The dashboard's options for a node's REST server: what it adds to the Node API (this process's health). */
import { processSampler } from "../../metrics/process-sampler.js";
import type { DashboardOptions } from "./dashboard.js";

/** Dashboard options of a node: the live view shows this process's health in its row (the one sampler's figure). */
export function dashboardOptions(): Omit<DashboardOptions, "api" | "tickets"> {
  const sampler = processSampler();
  return { health: () => sampler.health() };
}
