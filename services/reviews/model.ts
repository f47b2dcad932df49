/**
 * Reviews, per-product rating aggregates and review requests, and what of them clients see. Pure code.
 */
export interface ReviewDoc {
	id: string;
	product_id: string;
	user_id: string;
	author_name: string;
	rating: number;
	comment: string;
	/** Whether the author had this product delivered (a review request exists). */
	verified_purchase: boolean;
	/** product_id|user_id, unique: one review per user and product. */
	dedupe_key: string;
	created_at: string;
}

/** Sum and count of a product's ratings, kept with atomic $inc. */
export interface RatingDoc {
	id: string;
	sum: number;
	count: number;
}

export type ReviewRequestStatus = "PENDING" | "REVIEWED";

/** An invitation to review a delivered product; one per user and product. */
export interface ReviewRequestDoc {
	id: string;
	/** user_id|product_id, unique. */
	dedupe_key: string;
	user_id: string;
	product_id: string;
	order_id: string;
	status: ReviewRequestStatus;
	created_at: string;
	updated_at: string;
}

export interface ApiReview {
	id: string;
	product_id: string;
	author: string;
	rating: number;
	comment: string;
	verified_purchase: boolean;
	created_at: string;
}

export interface ReviewList {
	rows: ApiReview[];
	average_rating: number;
	count: number;
	page: number;
	page_size: number;
}

export const MAX_COMMENT_LENGTH = 2000;

/** The unique key of a user's review of a product. */
export function reviewKey(productId: string, userId: string): string {
	return `${productId}|${userId}`;
}

/** The unique key of a review request. */
export function requestKey(userId: string, productId: string): string {
	return `${userId}|${productId}`;
}

/** The average rating rounded to two decimals; 0 without ratings. */
export function averageOf(sum: number, count: number): number {
	return count > 0 ? Math.round((sum / count) * 100) / 100 : 0;
}

/** The review as clients see it: the author's display name, never their id or email. */
export function toApiReview(r: ReviewDoc): ApiReview {
	return {
		id: r.id,
		product_id: r.product_id,
		author: r.author_name,
		rating: r.rating,
		comment: r.comment,
		verified_purchase: r.verified_purchase,
		created_at: r.created_at,
	};
}

/** A display name that does not reveal an email address ("ann@example.com" -> "ann"). */
export function authorName(name: string | undefined, email: string | undefined): string {
	const n = (name ?? "").trim();
	if (n && !n.includes("@")) return n.slice(0, 60);
	const local = (email ?? n).split("@")[0]?.trim();
	return local ? local.slice(0, 60) : "Customer";
}

/** The distinct product ids of an order's lines. */
export function deliveredProducts(items: Array<{ product_id?: unknown }> | undefined): string[] {
	const ids = (items ?? []).map(i => i.product_id).filter((id): id is string => typeof id === "string" && id.length > 0);
	return [...new Set(ids)];
}
