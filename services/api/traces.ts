/**
 * `api.trace`: the call chain of a recent request by its trace id. Owned by the tracing work (issue 5).
 */
import type { ActionSchema } from "moleculer";
import type { Config } from "../../config/env";

export function traceActions(_config: Config): Record<string, ActionSchema> {
	return {};
}
