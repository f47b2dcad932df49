/**
 * Checkout claims: one stored record per user and Idempotency-Key, and one per user and cart version. Whoever
 * inserts the record runs the checkout; a duplicate finds the record and replays its answer, waits, or is told
 * that the checkout is in progress. A record names its owner (node and process) and the order key fixed when it
 * was first claimed, so a record left behind by a process that died is taken over at once, and the takeover
 * places (or finds) the same order instead of a new one.
 */
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import type { CheckoutResponse } from "./model";

/** The stored claim of one Idempotency-Key or one cart version of one user. */
export interface RequestDoc {
	id: string;
	user_id: string;
	body_hash: string;
	state: "IN_PROGRESS" | "DONE";
	claimed_at: number;
	/** `<node id>|<process instance>` of the checkout that runs it. */
	owner?: string;
	/** The orders.create idempotency key, fixed at the first claim. */
	order_key?: string;
	status_code: number | null;
	response: CheckoutResponse | null;
	created_at: string;
}

/** The body hash of cart-version claims (they have no body of their own). */
export const CART_CLAIM = "cart";

export type Claim =
	| { kind: "claimed"; doc: RequestDoc; takenOver: boolean }
	| { kind: "replay"; doc: RequestDoc }
	| { kind: "busy"; doc: RequestDoc }
	| { kind: "conflict"; doc: RequestDoc };

export interface ClaimOwner {
	/** This process: `<node id>|<instance>`. */
	id: string;
	/** Whether the checkout that owns a record still runs (its node is up and, for this node, the run is in memory). */
	isAlive(owner: string | undefined, recordId: string): boolean;
}

/**
 * This process as the owner of claims: `<node id>|<instance>`. A record of this process is alive while its run is in
 * memory; one of this node's id with another instance is an earlier run (NODE_ID kept across restarts), so dead; one
 * of another node is alive while that node is up; one without an owner (an older version) only its age tells.
 */
export function processOwner(nodeId: string, instance: string, running: Set<string>, isNodeUp: (nodeId: string) => boolean): ClaimOwner {
	const self = `${nodeId}|${instance}`;
	return {
		id: self,
		isAlive: (owner, recordId) => {
			if (!owner) return true;
			if (owner === self) return running.has(recordId);
			const [ownerNode, ownerInstance] = owner.split("|");
			if (ownerNode === nodeId) return ownerInstance === instance && running.has(recordId);
			return isNodeUp(ownerNode);
		},
	};
}

/** Claims records in the checkout's `requests` collection. */
export class CheckoutClaims {
	constructor(
		private readonly repo: Repository<RequestDoc>,
		private readonly owner: ClaimOwner,
		private readonly staleMs: number,
	) {}

	/** One attempt to claim `id` for a body; a dead or stale owner's record is taken over with its order key. */
	async claim(id: string, userId: string, hash: string, orderKey: string): Promise<Claim> {
		for (let attempt = 0; attempt < 5; attempt++) {
			const now = Date.now();
			const doc: RequestDoc = {
				id,
				user_id: userId,
				body_hash: hash,
				state: "IN_PROGRESS",
				claimed_at: now,
				owner: this.owner.id,
				order_key: orderKey,
				status_code: null,
				response: null,
				created_at: new Date(now).toISOString(),
			};
			try {
				return { kind: "claimed", doc: await this.repo.insert(doc), takenOver: false };
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
			const existing = await this.repo.findById(id);
			if (!existing) continue; // given back meanwhile: claim it afresh
			if (existing.body_hash !== hash) return { kind: "conflict", doc: existing };
			if (existing.state === "DONE") return { kind: "replay", doc: existing };
			const dead = !this.owner.isAlive(existing.owner, id) || now - existing.claimed_at > this.staleMs;
			if (!dead) return { kind: "busy", doc: existing };
			const n = await this.repo.updateWhere(
				{ id, state: "IN_PROGRESS", claimed_at: existing.claimed_at },
				{ $set: { claimed_at: now, owner: this.owner.id, order_key: existing.order_key ?? orderKey } },
			);
			if (n === 1) return { kind: "claimed", doc: { ...existing, claimed_at: now, owner: this.owner.id, order_key: existing.order_key ?? orderKey }, takenOver: true };
		}
		const doc = await this.repo.findById(id);
		if (doc) return { kind: "busy", doc };
		throw new Error(`checkout claim ${id} kept changing`);
	}

	/**
	 * Claims still in progress whose checkout is gone: left with an unknown outcome (`claimed_at` 0), or owned by a
	 * process that died or a request that ran past the stale limit. Oldest first, at most `limit`.
	 */
	async leftBehind(limit: number): Promise<RequestDoc[]> {
		const now = Date.now();
		const rows = await this.repo.find({ state: "IN_PROGRESS" }, { sort: ["claimed_at"], limit: limit * 4 });
		return rows.filter(d => d.claimed_at === 0 || !this.owner.isAlive(d.owner, d.id) || now - d.claimed_at > this.staleMs).slice(0, limit);
	}

	/** Takes a claim left behind for this process, as a customer's retry would (null when someone took it first). */
	async takeOver(doc: RequestDoc): Promise<RequestDoc | null> {
		const now = Date.now();
		const n = await this.repo.updateWhere({ id: doc.id, state: "IN_PROGRESS", claimed_at: doc.claimed_at }, { $set: { claimed_at: now, owner: this.owner.id } });
		return n === 1 ? { ...doc, claimed_at: now, owner: this.owner.id } : null;
	}

	/** The order key of the user's newest cart checkout placed within `windowMs`, for a click repeated after the cart emptied. */
	async recentlyPlaced(userId: string, windowMs: number): Promise<string | null> {
		const [doc] = await this.repo.find({ user_id: userId, body_hash: CART_CLAIM, state: "DONE", claimed_at: { $gt: Date.now() - windowMs } }, { sort: ["-claimed_at"], limit: 1 });
		return doc?.order_key ?? null;
	}

	/**
	 * Marks a claimed record done. An Idempotency-Key keeps its whole answer (a repeat gets the first response); a
	 * cart version keeps only its order key (a repeated click gets the order as it stands, read from orders).
	 */
	async finish(doc: RequestDoc, status: number, response: CheckoutResponse | null): Promise<void> {
		await this.repo.updateWhere({ id: doc.id, claimed_at: doc.claimed_at }, { $set: { state: "DONE", status_code: status, response } });
	}

	/**
	 * Leaves a claimed record to whoever comes next, keeping its order key: the outcome is unknown (orders.create's
	 * answer was lost), and the customer's retry, on any node, takes it over at once and finds or places that order.
	 */
	async abandon(doc: RequestDoc): Promise<void> {
		await this.repo.updateWhere({ id: doc.id, claimed_at: doc.claimed_at }, { $set: { claimed_at: 0 } });
	}

	/** Gives a claimed record back (nothing was placed, or the order failed and the cart may be tried again). */
	async giveBack(doc: RequestDoc): Promise<void> {
		await this.repo.removeWhere({ id: doc.id, claimed_at: doc.claimed_at });
	}
}
