/**
 * The configuration, passed on: every service created on the broker gets the configuration the broker was built
 * with as `settings.$config` (read with `configOf(this)` from config/env.ts), listed in `$secureSettings` so that
 * Moleculer never publishes it (secrets included) to the other nodes.
 */
import type { Middleware, Service, ServiceSchema } from "moleculer";
import { CONFIG_SETTING, type Config } from "../env";

/** Puts `config` in the settings of every service before its `created` handlers run. */
export function ServiceConfigMiddleware(config: Config): Middleware {
	return {
		name: "ServiceConfig",
		serviceCreating(_service: Service, schema: ServiceSchema) {
			const settings = schema.settings ?? {};
			const secure = (settings.$secureSettings ?? []).filter(key => key !== CONFIG_SETTING);
			schema.settings = Object.assign({}, settings, { [CONFIG_SETTING]: config, $secureSettings: [...secure, CONFIG_SETTING] });
		},
	} as unknown as Middleware;
}
