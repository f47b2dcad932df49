/**
 * Behavior at the gateway: reads `?behavior=` or `X-Behavior`, refuses a malformed one with 400 and puts
 * the parsed rules in `ctx.meta.behavior`, from where they travel with every call and event across nodes.
 * In production a behavior is refused unless CHAOS_ENABLED=true.
 */
import type { IncomingMessage } from "node:http";
import type { Context } from "moleculer";
import { Errors } from "moleculer";
import type { Config } from "../../config/env";
import { BehaviorParseError, parseBehavior, type Behavior } from "../common/behavior";
import type { ShopMeta } from "../common/meta";

/** At most `max` characters of a client's text; a longer one is cut and says how long it was. */
function clip(text: string, max: number): string {
	return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/**
 * 400: a behavior string that does not parse. The bad token is echoed once, in `data.token`, cut to 100
 * characters; the message is the reason (which may quote part of the token), cut to 200: a 7,000-character
 * `?behavior=` gets a short answer, not the whole input twice.
 */
export class InvalidBehaviorError extends Errors.MoleculerClientError {
	constructor(err: BehaviorParseError) {
		super(`Invalid behavior: ${clip(err.reason, 200)}`, 400, "INVALID_BEHAVIOR", { token: clip(err.token, 100) });
	}
}

/** 403: behaviors are switched off on this deployment. */
export class BehaviorDisabledError extends Errors.MoleculerClientError {
	constructor() {
		super("Fault injection (behavior) is disabled in production; set CHAOS_ENABLED=true to allow it", 403, "BEHAVIOR_DISABLED");
	}
}

interface BehaviorRequest extends IncomingMessage {
	query?: Record<string, unknown>;
	$params?: Record<string, unknown>;
}

/** The raw behavior string of a request: the query parameter wins over the header; null when neither is given. */
export function behaviorString(req: BehaviorRequest): string | null {
	const q = req.query?.behavior;
	if (q !== undefined) {
		if (typeof q === "string") return q;
		// ?behavior=a&behavior=b or ?behavior[x]=y: not one behavior string.
		throw new InvalidBehaviorError(new BehaviorParseError(String(q), "give the behavior once, as one comma-separated string"));
	}
	const h = req.headers["x-behavior"];
	const header = Array.isArray(h) ? h.join(",") : h;
	return header === undefined ? null : header;
}

/** Parses a behavior string for the gateway: 400 when malformed, 403 when behaviors are disabled. */
export function gatewayBehavior(raw: string | null, config: Pick<Config, "behaviorEnabled">): Behavior | null {
	if (raw === null || raw.trim() === "") return null;
	if (!config.behaviorEnabled) throw new BehaviorDisabledError();
	try {
		return parseBehavior(raw);
	} catch (err) {
		if (err instanceof BehaviorParseError) throw new InvalidBehaviorError(err);
		throw err;
	}
}

/** Applies the request's behavior string to the call context and keeps `behavior` out of the action's params. */
export function applyBehavior(ctx: Context<unknown, ShopMeta>, req: IncomingMessage, config: Config): void {
	const r = req as BehaviorRequest;
	const raw = behaviorString(r);
	if (r.query && "behavior" in r.query && r.$params) delete r.$params.behavior;
	const behavior = gatewayBehavior(raw, config);
	if (behavior) ctx.meta.behavior = behavior;
	else delete ctx.meta.behavior;
}
