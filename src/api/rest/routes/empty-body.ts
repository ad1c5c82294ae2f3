/** A missing body validates as a default (PATCH /execution/stop with no body is `{}`, an upload with none ""). */
import type { FastifyRequest } from "fastify";

/** A preValidation hook that puts `value` where the body is missing. */
export function emptyBody(value: unknown): (req: FastifyRequest) => Promise<void> {
  return async (req) => {
    if (req.body === undefined || req.body === null) req.body = value;
  };
}
