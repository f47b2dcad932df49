/**
 * The shop document, what of it leaves the service, and the demo shops. Pure code.
 */
import type { ShopChangedPayload } from "../common/events";

export type ShopStatus = ShopChangedPayload["status"];
export const SHOP_STATUSES: ShopStatus[] = ["PENDING", "ACTIVE", "SUSPENDED"];

export interface ShopDoc {
	id: string;
	name: string;
	slug: string;
	/** Null for the house shop, which only admins manage. */
	owner_id: string | null;
	status: ShopStatus;
	description: string;
	version: number;
	created_at: string;
	updated_at: string;
	/** Events staged with the write that they report (EventsMixin publishes and removes them). */
	pending_events?: unknown[];
}

export interface ShopStats {
	product_count: number;
	rating_average: number;
	rating_count: number;
}

export type ApiShop = ShopStats & Pick<ShopDoc, "id" | "name" | "slug" | "owner_id" | "status" | "description" | "created_at">;

/** The shop that owns products created without one (admin-created products, rows older than shops). */
export const HOUSE_SHOP_ID = "shopflow";

/** Shop names and slugs: the slug must keep at least two letters or digits. */
export const SHOP_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/;

const NO_STATS: ShopStats = { product_count: 0, rating_average: 0, rating_count: 0 };

/** The shop as clients see it, with its catalog figures. */
export function toApiShop(s: ShopDoc, stats: ShopStats = NO_STATS): ApiShop {
	return {
		id: s.id,
		name: s.name,
		slug: s.slug,
		owner_id: s.owner_id,
		status: s.status,
		description: s.description,
		created_at: s.created_at,
		...stats,
	};
}

/** Who may see a shop: everyone when it is ACTIVE, otherwise its owner and admins. */
export function canSee(shop: ShopDoc, user: { id: string; role: string } | undefined): boolean {
	return shop.status === "ACTIVE" || canManage(shop, user);
}

/** Who may manage a shop's products and stock: its owner and admins. */
export function canManage(shop: ShopDoc, user: { id: string; role: string } | undefined): boolean {
	if (!user) return false;
	return user.role === "admin" || (shop.owner_id !== null && shop.owner_id === user.id);
}

/** A new shop document. */
export function newShop(id: string, name: string, slug: string, ownerId: string | null, description: string, status: ShopStatus, now: string): ShopDoc {
	return { id, name, slug, owner_id: ownerId, status, description, version: 1, created_at: now, updated_at: now };
}

/** The statuses a shop may move to from each status by approve and suspend. */
export function nextStatus(current: ShopStatus, action: "approve" | "suspend"): ShopStatus | null {
	const target: ShopStatus = action === "approve" ? "ACTIVE" : "SUSPENDED";
	return current === target ? null : target;
}
