/**
 * The audit trail through the gateway: admin and seller writes leave chained entries with actor, before, after and
 * trace id; only admins read them; `verify` names the first entry edited or deleted in the store; appends from two
 * writers sharing the store stay one linear chain; and an intent left by a crashed writer is resolved by the sweep.
 * AUDIT_REQUIRED, deliveries and refunds: audit-deliveries.spec.ts.
 */
import type { Service } from "moleculer";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { canonicalJson } from "../../services/common/audit";
import { AuditStore } from "../../services/audit/store";
import type { AuditEntry } from "../../services/audit/chain";
import type { Repository } from "../../mixins/db.mixin";
import type { Entry, PageBody, VerifyBody } from "../helpers/audit";

type AuditService = Service & { collection<T extends { id: string }>(name: string): Repository<T> };

const SERVICES = ["api", "users", "products", "inventory", "shops", "settings", "vouchers", "audit"] as const;

describe("audit trail", () => {
	let shop: Shop;
	let admin: string;
	let adminId: string;
	let seller: { token: string; id: string; email: string };
	let other: { token: string; id: string; email: string };
	let productId: string;
	const tag = Math.random().toString(36).slice(2, 8);

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);
	const audit = (query: string) => api<PageBody<Entry>>("GET", `/admin/audit?${query}`, { token: admin });
	const verify = async (): Promise<VerifyBody> => {
		const res = await api<VerifyBody>("GET", "/admin/audit/verify", { token: admin });
		expect(res.status).toBe(200);
		return res.body;
	};
	const entries = (): Repository<AuditEntry> => (shop.broker.getLocalService("audit") as AuditService).collection<AuditEntry>("entries");

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-audit-${Date.now()}-${tag}` });
		admin = await loginAdmin(shop.url, shop.config);
		adminId = (await api<{ id: string }>("GET", "/account/profile", { token: admin })).body.id;
		[seller, other] = await Promise.all([registerCustomer(shop.url), registerCustomer(shop.url)]);
		const opened = await api<{ id: string }>("POST", "/shops", { token: seller.token, body: { name: `Audit ${tag}`, description: "audited" } });
		expect(opened.status).toBe(201);
		expect((await api("POST", `/admin/shops/${opened.body.id}/approve`, { token: admin })).status).toBe(200);
		const created = await api<{ id: string }>("POST", `/shops/${opened.body.id}/products`, {
			token: seller.token,
			body: { name: `Lamp ${tag}`, brand: "Acme", category: "lighting", price: 20 },
		});
		expect(created.status).toBe(201);
		productId = created.body.id;
	});

	afterAll(async () => {
		await shop?.stop();
	});

	it("records an admin's price change with the actor, the price before and after, and the request's trace id", async () => {
		const res = await api("PUT", `/products/${productId}`, { token: admin, body: { price: 24.5 } });
		expect(res.status).toBe(200);
		const page = await audit(`entity=product&action=products.update&entity_id=${productId}`);
		expect(page.status).toBe(200);
		expect(page.body.total).toBe(1);
		const [entry] = page.body.rows;
		expect(entry.actor).toEqual({ id: adminId, email: shop.config.adminEmail, role: "admin" });
		expect(entry.before).toMatchObject({ id: productId, price_cents: 2000 });
		expect(entry.after).toMatchObject({ id: productId, price_cents: 2450 });
		expect(entry.trace_id).toBe(res.headers.get("x-trace-id"));
		expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
		expect(entry.recovered).toBe(false);
	});

	it("records a seller's restock of its own product with the stock before and after", async () => {
		expect((await api("PUT", `/inventory/${productId}`, { token: seller.token, body: { warehouse_id: "wh-1", on_hand: 10 } })).status).toBe(200);
		const res = await api("POST", `/inventory/${productId}/restock`, { token: seller.token, body: { warehouse_id: "wh-1", quantity: 5 } });
		expect(res.status).toBe(200);
		const page = await audit(`action=inventory.restock&actor=${seller.id}`);
		expect(page.body.total).toBe(1);
		const [entry] = page.body.rows;
		expect(entry).toMatchObject({ entity: "stock", entity_id: productId, actor: { id: seller.id, email: seller.email, role: "customer" } });
		expect(entry.before).toMatchObject({ on_hand: 10 });
		expect(entry.after).toMatchObject({ on_hand: 15 });
		// The same seller found by email, and the stock set before it under its own action.
		const byEmail = await audit(`actor=${encodeURIComponent(seller.email)}&entity=stock`);
		expect(byEmail.body.rows.map(r => r.action)).toEqual(["inventory.restock", "inventory.setLevel"]);
	});

	it("leaves no entry for a refused write or a write that changes nothing", async () => {
		const before = (await audit("")).body.total;
		const refused = await api("POST", `/inventory/${productId}/restock`, { token: other.token, body: { warehouse_id: "wh-1", quantity: 5 } });
		expect(refused.status).toBe(403);
		const flags = (await api<Record<string, boolean>>("GET", "/admin/flags", { token: admin })).body;
		expect((await api("PUT", "/admin/flags/reviews", { token: admin, body: { enabled: flags.reviews } })).status).toBe(200);
		expect((await audit("")).body.total).toBe(before);
		const intents = await (shop.broker.getLocalService("audit") as AuditService).collection<{ id: string }>("intents").count();
		expect(intents).toBe(0);
	});

	it("leaves no entry for a save that sets the values already stored (only updated_at moves)", async () => {
		const code = `SAME${tag}`.toUpperCase();
		expect((await api("POST", "/admin/vouchers", { token: admin, body: { code, type: "percent", value: 5 } })).status).toBe(201);
		const before = (await audit("")).body.total;
		expect((await api("PUT", `/admin/vouchers/${code}`, { token: admin, body: { value: 5 } })).status).toBe(200);
		const price = (await api<{ price: number }>("GET", `/products/${productId}`)).body.price;
		expect((await api("PUT", `/products/${productId}`, { token: seller.token, body: { price } })).status).toBe(200);
		expect((await audit("")).body.total).toBe(before);
	});

	it("records settings, flags and shop status changes", async () => {
		expect((await api("PUT", "/admin/flags/reviews", { token: admin, body: { enabled: false } })).status).toBe(200);
		const flag = (await audit("entity=flag")).body.rows[0];
		expect(flag).toMatchObject({ action: "settings.setFlag", entity_id: "reviews", before: { reviews: true }, after: { reviews: false } });
		expect((await api("PUT", "/admin/flags/reviews", { token: admin, body: { enabled: true } })).status).toBe(200);
		const opened = await api<{ id: string }>("POST", "/shops", { token: other.token, body: { name: `Other ${tag}` } });
		expect((await api("POST", `/admin/shops/${opened.body.id}/approve`, { token: admin })).status).toBe(200);
		const shopEntries = (await audit(`entity=shop&entity_id=${opened.body.id}`)).body.rows;
		expect(shopEntries.map(e => [e.action, e.before?.status ?? null, e.after?.status])).toEqual([
			["shops.approve", "PENDING", "ACTIVE"],
			["shops.create", null, "PENDING"],
		]);
	});

	it("records settings and the life of a voucher, from nothing to nothing", async () => {
		expect((await api("PUT", "/admin/settings", { token: admin, body: { store_name: `Audited ${tag}` } })).status).toBe(200);
		const settings = (await audit("entity=settings")).body.rows[0];
		expect(settings).toMatchObject({ action: "settings.update", entity_id: "shop", after: { store_name: `Audited ${tag}` } });
		expect(settings.before?.store_name).not.toBe(`Audited ${tag}`);

		const code = `AUDIT${tag.toUpperCase()}`;
		expect((await api("POST", "/admin/vouchers", { token: admin, body: { code, type: "percent", value: 10 } })).status).toBe(201);
		expect((await api("PUT", `/admin/vouchers/${code}`, { token: admin, body: { max_uses: 5 } })).status).toBe(200);
		expect((await api("DELETE", `/admin/vouchers/${code}`, { token: admin })).status).toBe(200);
		const rows = (await audit(`entity=voucher&entity_id=${code}`)).body.rows;
		expect(rows.map(e => [e.action, e.before?.max_uses, e.after?.max_uses])).toEqual([
			["vouchers.remove", 5, undefined],
			["vouchers.update", null, 5],
			["vouchers.create", undefined, null],
		]);
		expect(rows[0].after).toBeNull();
		expect(rows[2].before).toBeNull();
	});

	it("records a seller's change to a product the catalog does not list yet (its shop is pending)", async () => {
		const pending = await api<{ id: string; status: string }>("POST", "/shops", { token: other.token, body: { name: `Pending ${tag}` } });
		expect(pending.body.status).toBe("PENDING");
		const made = await api<{ id: string }>("POST", `/shops/${pending.body.id}/products`, {
			token: other.token,
			body: { name: `Hidden ${tag}`, brand: "Acme", category: "lighting", price: 7 },
		});
		expect(made.status).toBe(201);
		expect((await api("PUT", `/products/${made.body.id}`, { token: other.token, body: { price: 8 } })).status).toBe(200);
		const rows = (await audit(`entity_id=${made.body.id}`)).body.rows;
		expect(rows.map(e => [e.action, e.actor.id])).toEqual([
			["products.update", other.id],
			["products.createInShop", other.id],
		]);
		expect(rows[0].after).toMatchObject({ price: 8 });
	});

	it("answers pages newest first", async () => {
		const all = (await audit("page_size=100")).body;
		expect(all.total).toBeGreaterThanOrEqual(8);
		const seqs = all.rows.map(r => r.seq);
		expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
		const second = (await audit("page=2&page_size=2")).body;
		expect(second).toMatchObject({ page: 2, page_size: 2, total: all.total, total_pages: Math.ceil(all.total / 2) });
		expect(second.rows.map(r => r.seq)).toEqual(seqs.slice(2, 4));
		expect((await audit("page_size=1000")).status).toBe(422);
	});

	it("is for admins only: 403 for a customer or seller, 401 without a token", async () => {
		expect((await api("GET", "/admin/audit", { token: seller.token })).status).toBe(403);
		expect((await api("GET", "/admin/audit/verify", { token: other.token })).status).toBe(403);
		expect((await api("GET", "/admin/audit")).status).toBe(401);
	});

	it("keeps one linear chain when two writers append to the same store at once", async () => {
		const svc = shop.broker.getLocalService("audit") as AuditService;
		// Two stores over the same collections: two nodes of the audit service sharing one database.
		const nodes = [0, 1].map(() => new AuditStore(svc.collection("entries"), svc.collection("intents"), svc.collection("head")));
		const actor = { id: "system", email: null, role: "system" };
		const appended = await Promise.all(
			Array.from({ length: 40 }, (_, i) =>
				nodes[i % 2].append({
					id: `race-${tag}-${i}`,
					at: new Date().toISOString(),
					actor,
					action: "test.race",
					entity: "race",
					entity_id: String(i),
					before: null,
					after: canonicalJson({ i }),
					trace_id: null,
					intent_id: `race-${tag}-${i}`,
					recovered: false,
				}),
			),
		);
		const seqs = appended.map(e => e.seq).sort((a, b) => a - b);
		expect(new Set(seqs).size).toBe(40);
		expect(seqs[39] - seqs[0]).toBe(39);
		const result = await verify();
		expect(result).toMatchObject({ ok: true, broken: null });
		expect(result.checked).toBe(result.head_seq);
	});

	it("completes the intent of a writer that crashed after its write, and drops one whose write never happened", async () => {
		const call = <T>(action: string, params: object) => shop.broker.call<T, object>(action, params);
		const product = await call<Record<string, unknown>>("products.lookup", { id: productId });
		const intent = (read: boolean) => ({
			intent_id: `crash-${tag}-${Math.random()}`,
			actor: { id: adminId, email: shop.config.adminEmail, role: "admin" },
			action: "products.update",
			entity: "product",
			entity_id: productId,
			before: canonicalJson(product),
			trace_id: `crash-${tag}`,
			read: read ? { action: "products.lookup", params: { id: productId } } : null,
		});
		// A begin sent twice (a retry after a lost answer) stores one intent.
		const once = intent(true);
		await call("audit.begin", once);
		await call("audit.begin", once);
		expect(await call("audit.sweep", { older_than_ms: 0 })).toEqual({ recorded: 0, discarded: 1, pending: 0 });

		await call("audit.begin", intent(true));
		// The write is made (here straight in the store, past the middleware) and its writer dies before committing.
		const products = (shop.broker.getLocalService("products") as AuditService).collection<{ id: string }>("products");
		await products.updateWhere({ id: productId }, { $set: { price_cents: 3100 } });
		expect(await call("audit.sweep", { older_than_ms: 0 })).toEqual({ recorded: 1, discarded: 0, pending: 0 });
		const [entry] = (await audit(`entity_id=${productId}&action=products.update`)).body.rows.filter(e => e.trace_id === `crash-${tag}`);
		expect(entry).toMatchObject({ recovered: true, before: { price_cents: 2450 }, after: { price_cents: 3100 } });

		// A write that failed and whose abort was lost, while another writer changed the product from the same state:
		// the change is the other writer's (it has its entry), not this intent's.
		const now = await shop.broker.call<Record<string, unknown>, object>("products.lookup", { id: productId }, { meta: { $cache: false } });
		await call("audit.begin", { ...intent(true), before: canonicalJson(now) });
		expect((await api("PUT", `/products/${productId}`, { token: admin, body: { price: 33 } })).status).toBe(200);
		expect(await call("audit.sweep", { older_than_ms: 0 })).toEqual({ recorded: 0, discarded: 1, pending: 0 });
		expect((await verify()).ok).toBe(true);
	});

	it("names the entry edited in the store, then the entry deleted from it", async () => {
		expect(await verify()).toMatchObject({ ok: true, broken: null });
		const target = (await audit(`action=inventory.restock&actor=${seller.id}`)).body.rows[0];
		const stored = (await entries().findOne({ seq: target.seq })) as AuditEntry;

		// Someone raises the restock in the store.
		await entries().updateWhere({ seq: target.seq }, { $set: { after: stored.after?.replace('"on_hand":15', '"on_hand":500') } });
		const edited = await verify();
		expect(edited).toMatchObject({ ok: false, broken: { seq: target.seq, id: target.id, reason: "HASH_MISMATCH" } });

		// ... and re-hashes it: the next entry's link no longer holds.
		const { entryHash } = await import("../../services/audit/chain");
		const tampered = (await entries().findOne({ seq: target.seq })) as AuditEntry;
		await entries().updateWhere({ seq: target.seq }, { $set: { hash: entryHash(tampered) } });
		expect((await verify()).broken).toMatchObject({ seq: target.seq + 1, reason: "PREV_HASH_MISMATCH" });

		// Put back as it was, the chain holds again.
		await entries().updateWhere({ seq: target.seq }, { $set: { after: stored.after, hash: stored.hash } });
		expect((await verify()).ok).toBe(true);

		// Someone deletes it.
		await entries().removeWhere({ seq: target.seq });
		expect(await verify()).toMatchObject({ ok: false, broken: { seq: target.seq, id: null, reason: "MISSING" } });
		await entries().insert(stored);

		// Deleting the last entry is seen too: the head remembers the highest seq.
		const last = (await audit("page_size=1")).body.rows[0];
		await entries().removeWhere({ seq: last.seq });
		expect((await verify()).broken).toMatchObject({ seq: last.seq, reason: "MISSING" });
	});
});
