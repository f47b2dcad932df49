/**
 * The call chain of a request across nodes, read back by its trace id.
 * Every node records a CallRecord per action call and event delivery (config/middlewares/call-chain.ts)
 * and answers `$callchain.spans`, which `GET /traces/:trace_id` asks of every node. Checkout returns its chain
 * inline as `upstream_calls` without asking anyone: the records travel back with the responses (below).
 */
import type { ServiceBroker } from "moleculer";

export interface CallRecord {
	/** The service that handled the call; "message-bus" for an event delivery. */
	name: string;
	/** The action's full name, or the event's name for an event delivery. */
	action: string;
	/** HTTP-like status: 200 on success, the error's code otherwise. */
	code: number;
	/** Milliseconds, from just before the behavior to the handler's end. */
	duration: number;
	node: string;
	/** The injected fault, when a behavior caused or delayed the call ("latency 734ms", "error 503"). */
	fault?: string;
	started_at?: number;
	parent_id?: string | null;
	span_id?: string;
	trace_id?: string;
	kind?: "action" | "event";
	/** The service that made the call (null for the gateway's own request). */
	caller?: string | null;
	/** For an event delivery: the service whose handler received it. */
	consumer?: string;
	/** The error's type when the call failed. */
	error_type?: string;
}

/**
 * Call records collected in band: a handler that calls `collectUpstreamCalls(ctx)` gets, from then on, the record of
 * every action call its context makes, directly or further down, in `ctx.meta.$calls`. A local callee shares the
 * caller's array; a remote callee starts an empty one that comes back in the response's meta and is appended to
 * the caller's (the call-chain middleware's `remoteAction`). Before this, checkout asked every node of the
 * cluster for the trace's records: 16 of the ~90 NATS messages of an order, and its answer waited for the
 * slowest node.
 */
export interface UpstreamCallsMeta {
	$calls?: CallRecord[];
}

/** Starts collecting the records of the calls made under this context. */
export function collectUpstreamCalls(ctx: { meta: object }): void {
	(ctx.meta as UpstreamCallsMeta).$calls = [];
}

/** The records collected since `collectUpstreamCalls`, oldest first; collecting stops (the response carries none). */
export function takeUpstreamCalls(ctx: { meta: object }): CallRecord[] {
	const meta = ctx.meta as UpstreamCallsMeta;
	const calls = meta.$calls ?? [];
	delete meta.$calls;
	return calls.sort((a, b) => (a.started_at ?? 0) - (b.started_at ?? 0));
}

export const CALL_CHAIN_SERVICE = "$callchain";
export const CALL_CHAIN_ACTION = `${CALL_CHAIN_SERVICE}.spans`;

/** Every call recorded for a trace id on every reachable node, oldest first. */
export async function collectCallChain(broker: ServiceBroker, traceId: string): Promise<CallRecord[]> {
	const nodes = (broker.registry.getNodeList({ onlyAvailable: true, withServices: false }) as Array<{ id: string }>).map(n => n.id);
	const answers = await Promise.allSettled(
		nodes.map(nodeID => broker.call(CALL_CHAIN_ACTION, { trace_id: traceId }, { nodeID, timeout: 2000, retries: 0 }) as Promise<CallRecord[]>),
	);
	const records: CallRecord[] = [];
	// A node without the service or one that does not answer in time simply adds nothing.
	for (const a of answers) if (a.status === "fulfilled" && Array.isArray(a.value)) records.push(...a.value);
	return records.sort((a, b) => (a.started_at ?? 0) - (b.started_at ?? 0));
}
