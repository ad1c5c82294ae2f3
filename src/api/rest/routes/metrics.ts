/**
 * GET /metrics: the node's Prometheus exposition text. It sits behind the same guard and bearer token as every other
 * route: a scraper sends no Origin (GET is not state-changing, so the guard only checks Host), and Prometheus carries
 * the token with `authorization: {credentials_file: ...}` in its scrape config (docs/metrics.md).
 */
import type { FastifyInstance } from "fastify";

/** What the route reads: the node's series (src/metrics/prometheus.ts). */
export interface MetricsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** Registers GET /metrics. */
export function registerMetricsRoute(app: FastifyInstance, source: MetricsSource): void {
  app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
    const text = await source.metrics();
    return reply.header("content-type", source.contentType).send(text);
  });
}
