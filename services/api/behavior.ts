/**
 * Fault injection at the gateway: reads `?behavior=` or `X-Behavior`, refuses a malformed one with 400 and puts
 * the parsed rules in `ctx.meta.behavior`. Owned by the fault-injection work (issue 5).
 */
import type { IncomingMessage } from "node:http";
import type { Context } from "moleculer";
import type { Config } from "../../config/env";
import type { ShopMeta } from "../common/meta";

/** Applies the request's behavior string to the call context. */
export function applyBehavior(_ctx: Context<unknown, ShopMeta>, _req: IncomingMessage, _config: Config): void {
	// Filled in by the fault-injection work.
}
