/**
 * The node restart: calls waiting for an instance that died are rejected when its successor announces itself.
 */
import type { Middleware, ServiceBroker } from "moleculer";
import { byFactory, onNodeInfo, rejectPendingRequestsTo, type NodeInfoEvent } from "./moleculer-internals";

/**
 * A node that dies and comes back under the same NODE_ID before its heartbeats are missed is, for Moleculer, the
 * same node updated: the requests it had taken died with the old instance, yet their callers wait for their whole
 * timeout (Moleculer rejects them only when a node disconnects). When a node's INFO carries a new instance id, the
 * requests waiting on that node are rejected (RequestRejectedError), so the callers take their "lost on the way"
 * path at once: checkout asks orders for the order by its key, or answers CHECKOUT_OUTCOME_UNKNOWN. A request that
 * the new instance received and runs is answered to nobody; every such caller here treats the outcome as unknown.
 */
export function NodeRestartMiddleware(): Middleware {
	return byFactory((broker: ServiceBroker) => {
		const instances = new Map<string, string>();
		const seen = ({ node }: NodeInfoEvent) => {
			if (node.local || !node.instanceID) return;
			const before = instances.get(node.id);
			instances.set(node.id, node.instanceID);
			if (before === undefined || before === node.instanceID) return;
			broker.logger.warn(`Node '${node.id}' restarted (new instance): the calls waiting for its old instance are rejected.`);
			rejectPendingRequestsTo(broker, node.id);
		};
		return {
			name: "NodeRestart",
			created() {
				onNodeInfo(broker, seen);
			},
		} as unknown as Middleware;
	});
}
