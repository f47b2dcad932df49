/**
 * The broker middlewares of ShopFlow, in the order they wrap each action and event handler.
 */
import type { Middleware } from "moleculer";
import type { Config } from "./env";

/** The middleware list for a configuration. */
export function brokerMiddlewares(_config: Config): Middleware[] {
	return [];
}
