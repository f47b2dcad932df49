/**
 * The `reviews` service: customer reviews with a per-product rating aggregate kept by atomic increments, and
 * review requests created when an order is delivered (which also mark reviews as verified purchases).
 */
import type { Context } from "moleculer";
import { DbMixin, DuplicateKeyError, type DbMethods } from "../mixins/db.mixin";
import { EventsMixin, type EventsMethods } from "../mixins/events.mixin";
import { EVENTS, type DomainEvent, type OrderDeliveredPayload } from "./common/events";
import { ConflictError, DependencyUnavailableError, ForbiddenError, NotFoundError } from "./common/errors";
import { created, requireUser, type ShopMeta } from "./common/meta";
import { defineService, withoutNulls, type ServiceThis } from "./common/schema";
import type { PricingRow } from "./products/client";
import { HOUSE_SHOP_ID } from "./shops/client";
import { pageWindow, pagingParams } from "./common/paging";
import {
	authorName,
	averageOf,
	deliveredProducts,
	MAX_COMMENT_LENGTH,
	requestKey,
	reviewKey,
	toApiReview,
	type ApiReview,
	type RatingDoc,
	type ReviewDoc,
	type ReviewList,
	type ReviewRequestDoc,
} from "./reviews/model";

interface ListParams {
	product_id: string;
	page: number;
	page_size: number;
}
interface CreateParams {
	product_id: string;
	rating: number;
	comment?: string;
}
export interface CreatedReview extends ApiReview {
	average_rating: number;
	rating_count: number;
}

interface ReviewsMethods extends DbMethods, EventsMethods {
	productExists(ctx: Context, productId: string): Promise<boolean | null>;
	assertNotOwnShop(ctx: Ctx<unknown>, productId: string): Promise<void>;
	addRating(productId: string, rating: number): Promise<RatingDoc>;
	orderedProducts(ctx: Context, event: OrderDeliveredPayload & { items?: Array<{ product_id?: unknown }> }): Promise<string[]>;
}
type ReviewsThis = ServiceThis<object, ReviewsMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const ReviewsService = defineService<object, ReviewsMethods>({
	name: "reviews",
	mixins: [
		DbMixin({
			reviews: { indexes: [{ fields: ["dedupe_key"], unique: true }, { fields: ["product_id", "user_id"], unique: true }] },
			ratings: {},
			review_requests: { indexes: [{ fields: ["dedupe_key"], unique: true }, { fields: ["user_id"] }] },
		}),
		EventsMixin<ReviewsThis>({
			handlers: {
				/** Invites the customer to review each product of a delivered order (once per user and product). */
				async [EVENTS.ORDER_DELIVERED](this: ReviewsThis, event: DomainEvent, ctx: Context): Promise<void> {
					const e = event as unknown as OrderDeliveredPayload & { items?: Array<{ product_id?: unknown }> };
					const requests = this.collection<ReviewRequestDoc>("review_requests");
					const now = new Date().toISOString();
					for (const product_id of await this.orderedProducts(ctx, e)) {
						try {
							await requests.insert({
								dedupe_key: requestKey(e.user_id, product_id),
								user_id: e.user_id,
								product_id,
								order_id: e.order_id,
								status: "PENDING",
								created_at: now,
								updated_at: now,
							});
						} catch (err) {
							if (!(err instanceof DuplicateKeyError)) throw err;
						}
					}
				},
			},
		}),
	],

	actions: {
		/** A product's reviews, newest first, with the average rating and the count. */
		list: {
			feature: "reviews",
			params: { product_id: { type: "string", min: 1, max: 100 }, ...pagingParams },
			async handler(this: ReviewsThis, ctx: Ctx<ListParams>): Promise<ReviewList> {
				const { product_id, page, page_size } = ctx.params;
				const [rows, rating] = await Promise.all([
					this.collection<ReviewDoc>("reviews").find({ product_id }, { sort: ["-created_at"], ...pageWindow(page, page_size) }),
					this.collection<RatingDoc>("ratings").findById(product_id),
				]);
				if (!rating && (await this.productExists(ctx, product_id)) === false) throw new NotFoundError("product", product_id);
				return {
					rows: rows.map(toApiReview),
					average_rating: averageOf(rating?.sum ?? 0, rating?.count ?? 0),
					count: rating?.count ?? 0,
					page,
					page_size,
				};
			},
		},

		/** Stores the caller's review of a product (one per user and product) and announces the new average. */
		create: {
			feature: "reviews",
			auth: "required",
			params: withoutNulls({
				product_id: { type: "string", min: 1, max: 100 },
				rating: { type: "number", integer: true, min: 1, max: 5 },
				comment: { type: "string", max: MAX_COMMENT_LENGTH, trim: true, optional: true },
			}),
			async handler(this: ReviewsThis, ctx: Ctx<CreateParams>): Promise<CreatedReview> {
				const user = requireUser(ctx.meta);
				const { product_id, rating } = ctx.params;
				const exists = await this.productExists(ctx, product_id);
				if (exists === null) throw new DependencyUnavailableError("products", "cannot check the product now; try again");
				if (!exists) throw new NotFoundError("product", product_id);
				await this.assertNotOwnShop(ctx, product_id);
				const requests = this.collection<ReviewRequestDoc>("review_requests");
				const request = await requests.findOne({ dedupe_key: requestKey(user.id, product_id) });
				let review: ReviewDoc;
				try {
					review = await this.collection<ReviewDoc>("reviews").insert({
						product_id,
						user_id: user.id,
						author_name: authorName(user.name, user.email),
						rating,
						comment: ctx.params.comment ?? "",
						verified_purchase: !!request,
						dedupe_key: reviewKey(product_id, user.id),
						created_at: new Date().toISOString(),
					});
				} catch (err) {
					if (err instanceof DuplicateKeyError)
						throw new ConflictError(`product_id: you have already reviewed '${product_id}'`, "REVIEW_EXISTS", { field: "product_id", product_id });
					throw err;
				}
				const agg = await this.addRating(product_id, rating);
				const average_rating = averageOf(agg.sum, agg.count);
				if (request) await requests.updateById(request.id, { $set: { status: "REVIEWED", updated_at: review.created_at } });
				await this.publish(ctx, EVENTS.REVIEW_CREATED, {
					review_id: review.id,
					product_id,
					user_id: user.id,
					rating,
					average_rating,
					rating_count: agg.count,
				});
				created(ctx, `/api/v1/reviews?product_id=${encodeURIComponent(product_id)}`);
				return { ...toApiReview(review), average_rating, rating_count: agg.count };
			},
		},

		/** The caller's pending review requests (products delivered to them and not reviewed yet). */
		requests: {
			feature: "reviews",
			auth: "required",
			async handler(this: ReviewsThis, ctx: Ctx<object>): Promise<{ rows: Array<Pick<ReviewRequestDoc, "product_id" | "order_id" | "created_at">> }> {
				const rows = await this.collection<ReviewRequestDoc>("review_requests").find(
					{ user_id: requireUser(ctx.meta).id, status: "PENDING" },
					{ sort: ["-created_at"], limit: 100 },
				);
				return { rows: rows.map(r => ({ product_id: r.product_id, order_id: r.order_id, created_at: r.created_at })) };
			},
		},
	},

	methods: {
		/** Whether the catalog has the product (active); null when the catalog does not answer. */
		async productExists(this: ReviewsThis, ctx: Context, productId: string): Promise<boolean | null> {
			try {
				const res = await ctx.call<{ rows: PricingRow[] }, { ids: string[] }>("products.getMany", { ids: [productId] });
				return res.rows.some(r => r.id === productId && r.active);
			} catch (err) {
				this.logger.warn(`products.getMany failed: ${(err as Error).message}`);
				return null;
			}
		},

		/**
		 * 403 OWN_SHOP_PRODUCT when the customer owns the shop that sells the product: a seller's stars would count in
		 * its product's and its shop's rating. Only the owner is refused (shops.access answers the shop to its owner).
		 */
		async assertNotOwnShop(this: ReviewsThis, ctx: Ctx<unknown>, productId: string): Promise<void> {
			const user = requireUser(ctx.meta);
			if (user.role === "admin" || ctx.broker.registry.getActionEndpoints("shops.access")?.hasAvailable() !== true) return;
			const { rows } = await ctx.call<{ rows: PricingRow[] }, { ids: string[] }>("products.getMany", { ids: [productId] });
			const shopId = rows.find(r => r.id === productId)?.shop_id ?? HOUSE_SHOP_ID;
			if (shopId === HOUSE_SHOP_ID) return;
			const owns = await ctx.call("shops.access", { id: shopId }).then(
				() => true,
				(err: { code?: number }) => {
					if (err.code === 403 || err.code === 404) return false;
					throw err;
				},
			);
			if (owns) throw new ForbiddenError(`A shop's owner may not review its own products ('${productId}' is sold by your shop)`, "OWN_SHOP_PRODUCT");
		},

		/** Adds one rating to the product's aggregate with an atomic $inc; returns the aggregate after it. */
		async addRating(this: ReviewsThis, productId: string, rating: number): Promise<RatingDoc> {
			const ratings = this.collection<RatingDoc>("ratings");
			const inc = { $inc: { sum: rating, count: 1 } };
			if ((await ratings.updateWhere({ id: productId }, inc)) === 0) {
				try {
					await ratings.insert({ id: productId, sum: rating, count: 1 });
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err;
					await ratings.updateWhere({ id: productId }, inc); // created by a concurrent review meanwhile
				}
			}
			return (await ratings.findById(productId)) as RatingDoc;
		},

		/** The products of a delivered order: from the event when it lists them, otherwise from the order. */
		async orderedProducts(this: ReviewsThis, ctx: Context, event): Promise<string[]> {
			if (event.items) return deliveredProducts(event.items);
			// The order is read as its owner would read it: the event names the owner.
			const order = await ctx.call<{ items?: Array<{ product_id?: unknown }> }, { id: string }>(
				"orders.get",
				{ id: event.order_id },
				{ meta: { user: { id: event.user_id, email: "", name: "", role: "customer" } } },
			);
			return deliveredProducts(order.items);
		},
	},
});

export default ReviewsService;
