/**
 * The orders service's actions for operators and the checkers: an order's event stream, its rebuild from it, the
 * saga log, orders by status and the counts. Spread into the service's actions (services/orders.service.ts).
 */
import type { Context } from "moleculer";
import type { Repository } from "../../mixins/db.mixin";
import { NotFoundError } from "../common/errors";
import type { ShopMeta } from "../common/meta";
import { orderIdOf, toPublicOrder, toSagaLog, type OrderDoc, type PublicOrder } from "./model";
import { findParams, idParams, type FindParams, type IdParams } from "./params";
import { rebuildOrders, type RebuildReport } from "./rebuild";
import { FAILURE_REASONS, ORDER_STATUSES } from "./state-machine";
import type { StreamEvent } from "./stream";

export interface Stats {
	total: number;
	by_status: Record<string, number>;
	by_failure_reason: Record<string, number>;
}

/** What these actions use of the orders service. */
interface OperatorThis {
	orders(): Repository<OrderDoc>;
	ownOrder(ctx: Ctx<unknown>, id: string): Promise<OrderDoc>;
	sagaOwner(id: string): Promise<string | null>;
}
type Ctx<P> = Context<P, ShopMeta>;

export const operatorActions = {
		/** The order's event stream `[{seq, type, at, actor, data}]` in order: the caller's own order, or any for an admin. */
		history: {
			auth: "required" as const,
			params: idParams,
			async handler(this: OperatorThis, ctx: Ctx<IdParams>): Promise<StreamEvent[]> {
				return (await this.ownOrder(ctx, ctx.params.id)).stream ?? [];
			},
		},

		/** Rebuilds one order (or every order) from its stream and reports each field that differs from the stored order (admin). */
		rebuild: {
			roles: ["admin"],
			params: { id: { type: "string", min: 1, max: 100, optional: true } },
			async handler(this: OperatorThis, ctx: Ctx<{ id?: string }>): Promise<RebuildReport> {
				return rebuildOrders(this.orders(), ctx.params.id);
			},
		},

		/** The saga log of an order (by saga or order id), for operators. */
		sagaLog: {
			roles: ["admin"],
			params: idParams,
			async handler(this: OperatorThis, ctx: Ctx<IdParams>): Promise<Record<string, unknown>> {
				const doc = await this.orders().findById(orderIdOf(ctx.params.id));
				if (!doc) throw new NotFoundError("saga", ctx.params.id);
				return { ...toSagaLog(doc), lease_owner: await this.sagaOwner(doc.saga.id) };
			},
		},

		/** Orders by status, for the REPL and the chaos invariants. */
		find: {
			visibility: "public" as const,
			params: findParams,
			async handler(this: OperatorThis, ctx: Ctx<FindParams>): Promise<{ rows: PublicOrder[] }> {
				const query: Record<string, unknown> = {};
				if (ctx.params.status) query.status = ctx.params.status;
				if (ctx.params.user_id) query.user_id = ctx.params.user_id;
				const rows = await this.orders().find(query, { sort: ["created_at"], limit: ctx.params.limit ?? 1000 });
				return { rows: rows.map(toPublicOrder) };
			},
		},

		/** Order counts by status and by failure reason. */
		stats: {
			visibility: "public" as const,
			async handler(this: OperatorThis): Promise<Stats> {
				const repo = this.orders();
				const byStatus = await Promise.all(ORDER_STATUSES.map(async s => [s, await repo.count({ status: s })] as const));
				const byReason = await Promise.all(FAILURE_REASONS.map(async r => [r, await repo.count({ status: "FAILED", failure_reason: r })] as const));
				return {
					total: byStatus.reduce((a, [, n]) => a + n, 0),
					by_status: Object.fromEntries(byStatus),
					by_failure_reason: Object.fromEntries(byReason),
				};
			},
		},
};
