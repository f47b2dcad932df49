/**
 * The gateway's production defaults: response headers every answer carries, who may inject faults, who may read
 * `/metrics`, and which browser origins may call the API.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../../config/env";
import type { AuthUser } from "../common/meta";
import { ForbiddenError, UnauthorizedError } from "../common/errors";

/**
 * Headers of every answer: `nosniff` always; `no-store` on the answers to requests that carry credentials and to
 * writes (a login's answer holds a token), so that no shared or browser cache keeps them. Anonymous reads stay
 * cacheable.
 */
export function writeSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
	res.setHeader("X-Content-Type-Options", "nosniff");
	if (req.headers.authorization !== undefined || (req.method !== "GET" && req.method !== "HEAD")) res.setHeader("Cache-Control", "no-store");
}

/**
 * moleculer-web's CORS settings: the origins CORS_ORIGINS lists (`*` in development by default); none in production
 * until it is set, and then no CORS headers at all, so that browsers keep foreign pages out.
 */
export function corsSettings(config: Pick<Config, "corsOrigins">): Record<string, unknown> | undefined {
	const origins = config.corsOrigins;
	if (Array.isArray(origins) && origins.length === 0) return undefined;
	return {
		origin: origins,
		methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
		allowedHeaders: ["Content-Type", "Authorization", "Idempotency-Key", "Prefer", "X-Behavior", "X-Request-ID"],
		exposedHeaders: ["X-Trace-Id", "X-Request-ID", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset", "Retry-After"],
		maxAge: 3600,
	};
}

/**
 * Where behaviors are switched on in production (a staging shop), a behavior takes an admin's token unless
 * CHAOS_PUBLIC=true, so that nobody can take such a shop down anonymously. Outside production nothing changes.
 */
export function checkBehaviorCaller(
	hasBehavior: boolean,
	user: AuthUser | null | undefined,
	config: Pick<Config, "isProduction" | "behaviorPublic">,
): void {
	if (!hasBehavior || !config.isProduction || config.behaviorPublic) return;
	if (!user)
		throw new UnauthorizedError("Fault injection (behavior) on this deployment needs an admin token (or CHAOS_PUBLIC=true)", "BEHAVIOR_NEEDS_ADMIN");
	if (user.role !== "admin")
		throw new ForbiddenError("Fault injection (behavior) on this deployment is for admins only (or CHAOS_PUBLIC=true)", "BEHAVIOR_NEEDS_ADMIN");
}

/** With METRICS_TOKEN set, `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise). */
export function checkMetricsToken(req: IncomingMessage, token: string | null): void {
	if (token === null) return;
	const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
	const given = Buffer.from(m?.[1] ?? "");
	const expected = Buffer.from(token);
	if (given.length !== expected.length || !timingSafeEqual(given, expected))
		throw new UnauthorizedError("GET /metrics needs Authorization: Bearer <METRICS_TOKEN>", "METRICS_TOKEN_REQUIRED");
}
