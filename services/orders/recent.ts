/**
 * The last version of each order this node wrote, so that the saga's next write of the same order needs no
 * read first (a checkout writes its order about six times in a row). Writes stay conditional on the order's
 * revision: a version another writer has overtaken only costs the refused write and a read from the store.
 */
import type { OrderDoc } from "./model";
import { isTerminalSaga } from "../../mixins/saga/engine";

/** Orders remembered at most (oldest forgotten first): the sagas in flight on one node fit many times over. */
const LIMIT = 2_000;

export class RecentOrders {
	private readonly docs = new Map<string, OrderDoc>();

	get(id: string): OrderDoc | undefined {
		return this.docs.get(id);
	}

	/** Remembers the version just stored. */
	remember(doc: OrderDoc): void {
		this.docs.delete(doc.id);
		this.docs.set(doc.id, doc);
		if (this.docs.size > LIMIT) this.docs.delete(this.docs.keys().next().value as string);
	}

	forget(id: string): void {
		this.docs.delete(id);
	}
}

const byService = new WeakMap<object, RecentOrders>();

/** The recent orders of one service instance. */
export function recentOrdersOf(service: object): RecentOrders {
	let r = byService.get(service);
	if (!r) {
		r = new RecentOrders();
		byService.set(service, r);
	}
	return r;
}

/** Whether an order's saga has ended: it is written again only by shipping's events, so it need not be remembered. */
export function sagaOver(doc: OrderDoc): boolean {
	return doc.saga !== undefined && isTerminalSaga(doc.saga.status);
}
