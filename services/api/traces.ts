/**
 * `api.trace`: the call chain of a recent request by its trace id, gathered from every node
 * (GET /api/v1/traces/:trace_id). Admins only in production; anyone outside production.
 */
import type { ActionSchema, Context } from "moleculer";
import type { Config } from "../../config/env";
import { collectCallChain, type CallRecord } from "../common/call-chain";
import { NotFoundError } from "../common/errors";

interface TraceParams {
	trace_id: string;
}

export interface TraceView {
	trace_id: string;
	/** Milliseconds from the first call's start to the last call's end. */
	duration: number;
	calls: CallRecord[];
}

/** The chain as a response: 404 when no node holds a record of the trace (unknown or older than the buffer). */
export function traceView(traceId: string, calls: CallRecord[]): TraceView {
	if (calls.length === 0) throw new NotFoundError("trace", traceId);
	const start = Math.min(...calls.map(c => c.started_at ?? 0));
	const end = Math.max(...calls.map(c => (c.started_at ?? 0) + c.duration));
	return { trace_id: traceId, duration: Math.round(end - start), calls };
}

export function traceActions(config: Config): Record<string, ActionSchema> {
	return {
		/** The call chain of a recent request across nodes (service, action, node, code, duration, injected fault). */
		trace: {
			...(config.isProduction ? { roles: ["admin"] } : {}),
			params: { trace_id: { type: "string", min: 1, max: 200, trim: true } },
			async handler(ctx: Context<TraceParams>): Promise<TraceView> {
				return traceView(ctx.params.trace_id, await collectCallChain(ctx.broker, ctx.params.trace_id));
			},
		},
	};
}
