/**
 * Settles checkout claims left behind with an unknown outcome (orders.create's answer was lost, or the checkout's
 * process died mid-request) when the customer never clicks again: a pass takes each such claim over as a retry
 * would and asks orders whether the claim's order key placed an order. Found: the claim is done (a repeat gets that
 * order) and the order's lines leave the cart, so they are not bought again with the next product added. Not found,
 * long after any orders.create under that key could still start (requests carry deadlines): the claim is given
 * back. Orders cannot say: the claim is left as it was, its order key kept, for the next pass or the customer.
 */
import type { Logger } from "moleculer";
import { BackgroundPass } from "../../mixins/db/background-pass";
import { CART_CLAIM, type CheckoutClaims, type RequestDoc } from "./claims";
import { checkoutResponse, checkoutStatus, type OrderCreateResult } from "./model";

export interface UnknownOutcomeDeps {
	/** The order placed under `orderKey` for the user, or null when there is none; throws when orders cannot say. */
	lookup(userId: string, orderKey: string): Promise<OrderCreateResult | null>;
	/** Takes the order's lines out of the user's cart. */
	clearCart(userId: string, order: OrderCreateResult["order"]): Promise<void>;
}

export interface UnknownOutcomeOptions {
	/** Milliseconds between passes. */
	intervalMs: number;
	/** A claim this old with no order under its key never placed one: it is given back. */
	noOrderAfterMs: number;
}

const BATCH = 100;

export class UnknownOutcomes extends BackgroundPass<number> {
	constructor(
		private readonly claims: CheckoutClaims,
		/** The claim ids this process runs now (so that nobody else takes over a claim while a pass holds it). */
		private readonly inProgress: Set<string>,
		private readonly deps: UnknownOutcomeDeps,
		private readonly opts: UnknownOutcomeOptions,
		logger: Logger,
	) {
		super(logger, "checkout unknown outcomes");
	}

	/** Runs a pass every `intervalMs` until `stop`. */
	start(): void {
		this.startEvery(this.opts.intervalMs);
	}

	/** Settles the claims left behind; returns how many were settled (done or given back). */
	protected async pass(): Promise<number> {
		let settled = 0;
		for (const left of await this.claims.leftBehind(BATCH)) {
			const doc = await this.claims.takeOver(left);
			if (!doc) continue;
			this.inProgress.add(doc.id);
			try {
				if (await this.settle(doc)) settled++;
			} finally {
				this.inProgress.delete(doc.id);
			}
		}
		return settled;
	}

	/** Settles one claim taken over; false when its outcome is still unknown (the claim is left for later). */
	private async settle(doc: RequestDoc): Promise<boolean> {
		if (!doc.order_key) return this.leave(doc);
		let found: OrderCreateResult | null;
		try {
			found = await this.deps.lookup(doc.user_id, doc.order_key);
		} catch (err) {
			this.logger.debug(`Checkout claim ${doc.id}: orders cannot say yet (${String(err)})`);
			return this.leave(doc);
		}
		if (!found) {
			if (Date.now() - Date.parse(doc.created_at) < this.opts.noOrderAfterMs) return this.leave(doc);
			await this.claims.giveBack(doc);
			return true;
		}
		const status = checkoutStatus(found);
		const placed = status === 201 || status === 202;
		if (doc.body_hash !== CART_CLAIM) {
			// An Idempotency-Key keeps the answer its retry would have got.
			await this.claims.finish(doc, status, checkoutResponse(found, found.saga.id, 0, []));
		} else if (placed) {
			await this.claims.finish(doc, status, null);
			await this.deps.clearCart(doc.user_id, found.order);
		} else {
			// A failed order leaves the cart free for another try, as the checkout itself does.
			await this.claims.giveBack(doc);
		}
		this.logger.info(`Checkout claim ${doc.id} settled: order ${found.order.id} is ${found.order.status}`);
		return true;
	}

	/** Leaves a claim with its outcome unknown, for the next pass or the customer's retry. */
	private async leave(doc: RequestDoc): Promise<false> {
		await this.claims.abandon(doc);
		return false;
	}
}
