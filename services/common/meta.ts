/**
 * What travels in `ctx.meta` across services and nodes.
 */
export type Role = "customer" | "admin";

export interface AuthUser {
	id: string;
	email: string;
	name: string;
	role: Role;
}

export interface ShopMeta {
	/** The authenticated caller, set by the gateway from the Bearer token. */
	user?: AuthUser;
	/** Behavior rules parsed by the gateway. */
	behavior?: unknown;
	/** moleculer-web: the HTTP status of the response. */
	$statusCode?: number;
	/** moleculer-web: the Location header of a 201. */
	$location?: string;
	/** moleculer-web: extra response headers. */
	$responseHeaders?: Record<string, string>;
	/** Request headers the gateway passes on (Idempotency-Key, Prefer). */
	headers?: Record<string, string | undefined>;
}

/** The caller, or a 401 when the action was reached without one (defence in depth behind the gateway). */
export function requireUser(meta: ShopMeta): AuthUser {
	if (!meta.user) {
		// Imported lazily to keep this module free of moleculer for pure code that only needs the types.
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const { UnauthorizedError } = require("./errors") as typeof import("./errors");
		throw new UnauthorizedError();
	}
	return meta.user;
}

/** Marks the response as 201 Created with the new resource's location. */
export function created(ctx: { meta: ShopMeta }, location: string): void {
	ctx.meta.$statusCode = 201;
	ctx.meta.$location = location;
}
