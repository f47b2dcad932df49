/**
 * `orders.rebuild`: folds the stream of one order, or of every order, and compares the result with the stored
 * order (services/orders/stream.ts). Orders stored before streams, never written since, have none to fold.
 */
import type { Repository } from "../../mixins/db.mixin";
import { NotFoundError } from "../common/errors";
import type { OrderDoc } from "./model";
import { streamDifferences, type StreamDifference } from "./stream";

export interface RebuildReport {
	checked: number;
	differences: StreamDifference[];
	/** Orders with no stream (stored before streams and not written since): nothing to rebuild them from. */
	without_stream: number;
	/** Their ids, the first 100. */
	without_stream_ids: string[];
}

const PAGE = 200;
const LISTED = 100;

/** Rebuilds one order (404 when it does not exist) or all of them, page by page in id order. */
export async function rebuildOrders(repo: Repository<OrderDoc>, id?: string): Promise<RebuildReport> {
	const report: RebuildReport = { checked: 0, differences: [], without_stream: 0, without_stream_ids: [] };
	const check = (doc: OrderDoc): void => {
		report.checked += 1;
		const diffs = streamDifferences(doc);
		if (diffs) report.differences.push(...diffs);
		else if (++report.without_stream <= LISTED) report.without_stream_ids.push(doc.id);
	};
	if (id !== undefined) {
		const doc = await repo.findById(id);
		if (!doc) throw new NotFoundError("order", id);
		check(doc);
		return report;
	}
	let after = "";
	for (;;) {
		const rows = await repo.find(after ? { id: { $gt: after } } : {}, { sort: ["id"], limit: PAGE });
		rows.forEach(check);
		if (rows.length < PAGE) return report;
		after = rows[rows.length - 1].id;
	}
}
