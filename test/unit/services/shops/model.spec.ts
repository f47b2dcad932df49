import { canManage, canSee, newShop, nextStatus, toApiShop } from "../../../../services/shops/model";
import { DEMO_SELLERS } from "../../../../services/shops/demo";
import { DEMO_PRODUCTS, DEMO_SHOP_OF_CATEGORY } from "../../../../services/products/demo-catalog";

const owner = { id: "u1", role: "customer" };
const other = { id: "u2", role: "customer" };
const admin = { id: "a", role: "admin" };

describe("shops/model", () => {
	it("shows an ACTIVE shop to everyone and any other only to its owner and admins", () => {
		const active = newShop("s1", "S", "s", "u1", "", "ACTIVE", "t");
		const pending = { ...active, status: "PENDING" as const };
		expect([canSee(active, undefined), canSee(active, other)]).toEqual([true, true]);
		expect([canSee(pending, undefined), canSee(pending, other), canSee(pending, owner), canSee(pending, admin)]).toEqual([false, false, true, true]);
	});

	it("lets only the owner and admins manage a shop, and nobody but admins the house shop", () => {
		const shop = newShop("s1", "S", "s", "u1", "", "ACTIVE", "t");
		expect([canManage(shop, owner), canManage(shop, admin), canManage(shop, other), canManage(shop, undefined)]).toEqual([true, true, false, false]);
		const house = newShop("shopflow", "ShopFlow", "shopflow", null, "", "ACTIVE", "t");
		expect([canManage(house, owner), canManage(house, admin)]).toEqual([false, true]);
	});

	it("approves to ACTIVE and suspends to SUSPENDED, and a repeat changes nothing", () => {
		expect(nextStatus("PENDING", "approve")).toBe("ACTIVE");
		expect(nextStatus("SUSPENDED", "approve")).toBe("ACTIVE");
		expect(nextStatus("ACTIVE", "suspend")).toBe("SUSPENDED");
		expect(nextStatus("PENDING", "suspend")).toBe("SUSPENDED");
		expect(nextStatus("ACTIVE", "approve")).toBeNull();
		expect(nextStatus("SUSPENDED", "suspend")).toBeNull();
	});

	it("shows a shop without its version or staged events", () => {
		const api = toApiShop({ ...newShop("s1", "S", "s", "u1", "d", "ACTIVE", "t"), pending_events: [] }, { product_count: 2, rating_average: 4.5, rating_count: 2 });
		expect(Object.keys(api).sort()).toEqual(["created_at", "description", "id", "name", "owner_id", "product_count", "rating_average", "rating_count", "slug", "status"]);
	});

	it("spreads every demo product over the three demo sellers' shops", () => {
		const shops = new Set(DEMO_SELLERS.map(s => s.shop.id));
		const used = new Set(DEMO_PRODUCTS.map(p => DEMO_SHOP_OF_CATEGORY[p.category]));
		expect(used).toEqual(shops);
		expect(shops.size).toBeGreaterThanOrEqual(3);
	});
});
