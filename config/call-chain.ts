/**
 * The call chain of a request across nodes, read back by its trace id (DESIGN.md section 6).
 * Owned by the tracing work (issue 5); checkout returns it inline as `upstream_calls`.
 */
import type { ServiceBroker } from "moleculer";

export interface CallRecord {
	/** The service that handled the call. */
	name: string;
	action: string;
	/** HTTP-like status: 200 on success, the error's code otherwise. */
	code: number;
	/** Milliseconds. */
	duration: number;
	node: string;
	/** The injected fault, when fault injection caused or delayed the call. */
	fault?: string;
	started_at?: number;
	parent_id?: string | null;
	span_id?: string;
}

/** Every call recorded for a trace id on every reachable node, oldest first. */
export async function collectCallChain(_broker: ServiceBroker, _traceId: string): Promise<CallRecord[]> {
	return [];
}
