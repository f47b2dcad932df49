/**
 * Admin views of the dead-letter store through the gateway: `api.deadLetters` (GET /api/v1/admin/dead-letters)
 * gathers the dead letters of every service instance in the registry; `api.redriveDeadLetter`
 * (POST /api/v1/admin/dead-letters/:id/redrive) finds the instance that holds one and redelivers it to its
 * consumer only. Owned by the durable-events work (issue 4).
 */
import type { ActionSchema, Context, ServiceBroker } from "moleculer";
import { Errors } from "moleculer";
import { serviceOfDeadLetter } from "./policy";
import type { DeadLetter, RedriveResult } from "../events.mixin";
import { NotFoundError } from "../../services/common/errors";

interface ListParams {
	status?: "dead" | "redriven" | "all";
	service?: string;
	page?: number;
	page_size?: number;
}

export interface DeadLetterPage {
	rows: DeadLetter[];
	total: number;
	page: number;
	page_size: number;
	/** Instances that did not answer (their dead letters are missing from this page). */
	unreachable: Array<{ service: string; node_id: string }>;
}

interface Instance {
	service: string;
	nodeID: string;
}

/** Every running instance of a service that has the events mixin's dead-letter actions (the gateway's own excepted). */
export function deadLetterInstances(broker: ServiceBroker, only?: string): Instance[] {
	const list = broker.registry.getServiceList({ onlyAvailable: true, withActions: true }) as unknown as Array<{
		name: string;
		nodeID: string;
		actions?: Record<string, unknown>;
	}>;
	return list
		.filter(s => s.name !== "api" && !!s.actions && `${s.name}.deadLetters` in s.actions && (!only || s.name === only))
		.map(s => ({ service: s.name, nodeID: s.nodeID }));
}

/** One list from several instances: duplicates (a store shared by replicas) once, newest first, one page. */
export function mergeDeadLetters(lists: DeadLetter[][], page: number, pageSize: number): { rows: DeadLetter[]; total: number } {
	const byId = new Map<string, DeadLetter>();
	for (const rows of lists) for (const row of rows) if (!byId.has(row.id)) byId.set(row.id, row);
	const all = [...byId.values()].sort((a, b) => (a.failed_at < b.failed_at ? 1 : a.failed_at > b.failed_at ? -1 : a.id.localeCompare(b.id)));
	return { rows: all.slice((page - 1) * pageSize, page * pageSize), total: all.length };
}

const MAX_PER_INSTANCE = 500;

export const deadLetterActions: Record<string, ActionSchema> = {
	/** Dead letters of all services on all nodes, newest first. */
	deadLetters: {
		roles: ["admin"],
		params: {
			status: { type: "enum", values: ["dead", "redriven", "all"], optional: true },
			service: { type: "string", min: 1, max: 100, optional: true },
			page: { type: "number", integer: true, min: 1, max: 100_000, optional: true, convert: true },
			page_size: { type: "number", integer: true, min: 1, max: 200, optional: true, convert: true },
		},
		async handler(ctx: Context<ListParams>): Promise<DeadLetterPage> {
			const page = ctx.params.page ?? 1;
			const pageSize = ctx.params.page_size ?? 50;
			const unreachable: DeadLetterPage["unreachable"] = [];
			const lists = await Promise.all(
				deadLetterInstances(ctx.broker, ctx.params.service).map(async inst => {
					try {
						const res = (await ctx.call(
							`${inst.service}.deadLetters`,
							{ status: ctx.params.status ?? "dead", limit: MAX_PER_INSTANCE },
							{ nodeID: inst.nodeID, retries: 0 },
						)) as { rows: DeadLetter[] };
						return res.rows;
					} catch {
						unreachable.push({ service: inst.service, node_id: inst.nodeID });
						return [];
					}
				}),
			);
			return { ...mergeDeadLetters(lists, page, pageSize), page, page_size: pageSize, unreachable };
		},
	},

	/** Redelivers one dead letter to the consumer that gave up on it. */
	redriveDeadLetter: {
		roles: ["admin"],
		params: { id: { type: "string", min: 1, max: 100, trim: true } },
		async handler(ctx: Context<{ id: string }>): Promise<RedriveResult> {
			const service = serviceOfDeadLetter(ctx.params.id);
			if (!service) throw new NotFoundError("dead letter", ctx.params.id);
			for (const inst of deadLetterInstances(ctx.broker, service)) {
				try {
					return (await ctx.call(`${service}.redriveDeadLetter`, { id: ctx.params.id }, { nodeID: inst.nodeID, retries: 0 })) as RedriveResult;
				} catch (err) {
					if (err instanceof Errors.MoleculerError && err.code === 404) continue;
					throw err;
				}
			}
			throw new NotFoundError("dead letter", ctx.params.id);
		},
	},
};
