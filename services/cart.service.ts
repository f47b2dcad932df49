/**
 * The `cart` service: one cart per user in the key-value store (Redis when REDIS_URL is set, in process
 * otherwise), holding product ids and quantities only. Reading a cart prices it from the catalog; adding refuses
 * unknown products (404), more than inventory has (409) and a total beyond what one payment can charge (422).
 * Every change is a compare-and-set on the user's key.
 */
import type { Context } from "moleculer";
import { configOf } from "../config/env";
import { createKeyValueStore, type KeyValueStore } from "../mixins/kv/store";
import { DependencyUnavailableError, InsufficientStockError, NotFoundError, ValidationFailedError } from "./common/errors";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { callDependency } from "./common/dependency";
import { assertChargeable } from "./payments/client";
import { SettingsCacheMixin, type SettingsCacheVars } from "./settings/client";
import type { QuoteAnswer } from "./vouchers/client";
import {
	cartId,
	cartKey,
	cartVersion,
	MAX_LINE_QUANTITY,
	MAX_LINES,
	parseCart,
	priceCart,
	pricedLines,
	quantityOf,
	quoteLines,
	setQuantity,
	subtractLines,
	withVoucher,
	type CartLine,
	type CartView,
	type CartVoucherQuote,
	type CatalogRow,
	type PricedCart,
	type StoredCart,
} from "./cart/model";

interface AddParams {
	product_id: string;
	quantity: number;
}
interface ProductParams {
	product_id: string;
}
interface UserParams {
	user_id: string;
}
interface ClearForParams extends UserParams {
	items?: CartLine[];
}
interface GetParams {
	country?: string;
}
interface VoucherParams extends GetParams {
	code: string;
}
interface Availability {
	ok: boolean;
	items: Array<{ product_id: string; requested: number; available: number; ok: boolean }>;
}
export interface CheckoutCart {
	id: string;
	user_id: string;
	items: CartLine[];
	/** Changes with every change of the cart: checkout takes one version of a cart once (a double click is one order). */
	version: string;
	/** The voucher code applied to the cart, if any (checkout quotes and redeems it). */
	voucher: string | null;
}

interface CartMethods {
	load(userId: string): Promise<StoredCart>;
	mutate(userId: string, change: (cart: StoredCart) => StoredCart | Promise<StoredCart>): Promise<StoredCart>;
	view(ctx: Context, userId: string, cart: StoredCart, country?: string): Promise<CartView>;
	quote(ctx: Context, userId: string, code: string, priced: PricedCart): Promise<QuoteAnswer>;
	catalogRows(ctx: Context, ids: string[]): Promise<CatalogRow[]>;
	ensureProduct(ctx: Context, productId: string): Promise<CatalogRow>;
	ensureStock(ctx: Context, productId: string, quantity: number): Promise<void>;
	ensureChargeable(ctx: Context, cart: StoredCart, known: CatalogRow[]): Promise<void>;
}
interface CartVars extends SettingsCacheVars {
	kv: KeyValueStore;
}
type CartThis = ServiceThis<CartVars, CartMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** An idle cart is forgotten after 30 days. */
const CART_TTL_MS = 30 * 24 * 3600 * 1000;
const PRODUCT_ID = { type: "string", min: 1, max: 100, trim: true } as const;
const LINES = {
	type: "array",
	max: MAX_LINES,
	items: { type: "object", strict: "remove", props: { product_id: PRODUCT_ID, quantity: { type: "number", integer: true, positive: true } } },
} as const;

/** The destination country a cart's tax is estimated for (`GET /cart?country=DE`); checkout uses the shipping address. */
const COUNTRY = { type: "string", min: 2, max: 56, trim: true, optional: true } as const;

const CartService = defineService<CartVars, CartMethods>({
	name: "cart",
	mixins: [SettingsCacheMixin()],

	actions: {
		/** The caller's cart at current catalog prices, with its bill (tax estimated for `country`, else the default rate). */
		get: {
			auth: "required",
			params: { country: COUNTRY },
			async handler(this: CartThis, ctx: Ctx<GetParams>): Promise<CartView> {
				const userId = requireUser(ctx.meta).id;
				return this.view(ctx, userId, await this.load(userId), ctx.params.country);
			},
		},

		/** Applies one voucher to the caller's cart (replacing any other): 404 unknown code, 422 naming why it does not apply. */
		applyVoucher: {
			auth: "required",
			feature: "vouchers",
			params: { code: { type: "string", min: 1, max: 40, trim: true }, country: COUNTRY },
			async handler(this: CartThis, ctx: Ctx<VoucherParams>): Promise<CartView> {
				const userId = requireUser(ctx.meta).id;
				const cart = await this.mutate(userId, async c => {
					const priced = pricedLines(c, await this.catalogRows(ctx, c.items.map(l => l.product_id)));
					const { voucher } = await this.quote(ctx, userId, ctx.params.code, priced);
					return withVoucher(c, voucher.code, new Date());
				});
				return this.view(ctx, userId, cart, ctx.params.country);
			},
		},

		/** Takes the voucher off the caller's cart (nothing to take off is fine). */
		removeVoucher: {
			auth: "required",
			params: { country: COUNTRY },
			async handler(this: CartThis, ctx: Ctx<GetParams>): Promise<CartView> {
				const userId = requireUser(ctx.meta).id;
				const cart = await this.mutate(userId, c => (c.voucher ? withVoucher(c, null, new Date()) : c));
				return this.view(ctx, userId, cart, ctx.params.country);
			},
		},

		/** Adds units of a product; 404 for an unknown product, 409 beyond what inventory has, 422 beyond the payment limit. */
		add: {
			auth: "required",
			params: {
				product_id: PRODUCT_ID,
				quantity: { type: "number", integer: true, min: 1, max: MAX_LINE_QUANTITY },
			},
			async handler(this: CartThis, ctx: Ctx<AddParams>): Promise<CartView> {
				const userId = requireUser(ctx.meta).id;
				const { product_id, quantity } = ctx.params;
				const row = await this.ensureProduct(ctx, product_id);
				// The checks run inside the compare-and-set, against the cart it replaces, so racing adds cannot exceed them.
				const cart = await this.mutate(userId, async c => {
					const had = quantityOf(c, product_id);
					if (had + quantity > MAX_LINE_QUANTITY)
						throw new ValidationFailedError("quantity", `a cart holds at most ${MAX_LINE_QUANTITY} units of one product (it has ${had})`);
					if (had === 0 && c.items.length >= MAX_LINES) throw new ValidationFailedError("product_id", `a cart holds at most ${MAX_LINES} different products`);
					const next = setQuantity(c, product_id, had + quantity, new Date());
					await this.ensureChargeable(ctx, next, [row]);
					await this.ensureStock(ctx, product_id, had + quantity);
					return next;
				});
				return this.view(ctx, userId, cart);
			},
		},

		/** Sets the quantity of a line already in the cart; 0 removes it. */
		update: {
			auth: "required",
			params: {
				product_id: PRODUCT_ID,
				quantity: { type: "number", integer: true, min: 0, max: MAX_LINE_QUANTITY },
			},
			async handler(this: CartThis, ctx: Ctx<AddParams>): Promise<CartView> {
				const userId = requireUser(ctx.meta).id;
				const { product_id, quantity } = ctx.params;
				const cart = await this.mutate(userId, async c => {
					const had = quantityOf(c, product_id);
					if (had === 0) throw new NotFoundError("cart item", product_id);
					const next = setQuantity(c, product_id, quantity, new Date());
					// Fewer units are always allowed, even in a cart that a price rise took over the limit.
					if (quantity > had) {
						await this.ensureChargeable(ctx, next, []);
						await this.ensureStock(ctx, product_id, quantity);
					}
					return next;
				});
				return this.view(ctx, userId, cart);
			},
		},

		/** Removes a product from the cart. */
		remove: {
			auth: "required",
			params: { product_id: PRODUCT_ID },
			async handler(this: CartThis, ctx: Ctx<ProductParams>): Promise<CartView> {
				const userId = requireUser(ctx.meta).id;
				const cart = await this.mutate(userId, c => {
					if (quantityOf(c, ctx.params.product_id) === 0) throw new NotFoundError("cart item", ctx.params.product_id);
					return setQuantity(c, ctx.params.product_id, 0, new Date());
				});
				return this.view(ctx, userId, cart);
			},
		},

		/** Empties the caller's cart. */
		clear: {
			auth: "required",
			async handler(this: CartThis, ctx: Ctx<object>): Promise<CartView> {
				const userId = requireUser(ctx.meta).id;
				const cart = await this.mutate(userId, () => ({ items: [], updated_at: new Date().toISOString() }));
				return this.view(ctx, userId, cart);
			},
		},

		/** A user's cart lines as stored (no prices: checkout re-prices them itself). */
		getForCheckout: {
			visibility: "public",
			params: { user_id: { type: "string", min: 1, max: 100 } },
			async handler(this: CartThis, ctx: Ctx<UserParams>): Promise<CheckoutCart> {
				const cart = await this.load(ctx.params.user_id);
				return { id: cartId(ctx.params.user_id), user_id: ctx.params.user_id, items: cart.items, version: cartVersion(cart), voucher: cart.voucher ?? null };
			},
		},

		/** Takes what an order bought out of a user's cart (everything when `items` is absent), and the voucher it used. */
		clearFor: {
			visibility: "public",
			params: { user_id: { type: "string", min: 1, max: 100 }, items: { ...LINES, optional: true } },
			async handler(this: CartThis, ctx: Ctx<ClearForParams>): Promise<CheckoutCart> {
				const { user_id, items } = ctx.params;
				const cart = await this.mutate(user_id, c => (items ? withVoucher(subtractLines(c, items, new Date()), null, new Date()) : { items: [], updated_at: new Date().toISOString() }));
				return { id: cartId(user_id), user_id, items: cart.items, version: cartVersion(cart), voucher: cart.voucher ?? null };
			},
		},
	},

	methods: {
		/** The user's stored cart (empty when there is none). */
		async load(this: CartThis, userId: string): Promise<StoredCart> {
			return parseCart(await this.kv.get(cartKey(userId)));
		},

		/** Applies a change with compare-and-set, retrying when another request changed the cart meanwhile. */
		async mutate(this: CartThis, userId: string, change: (cart: StoredCart) => StoredCart | Promise<StoredCart>): Promise<StoredCart> {
			const key = cartKey(userId);
			for (let attempt = 0; attempt < 50; attempt++) {
				const raw = await this.kv.get(key);
				const next = await change(parseCart(raw));
				const json = JSON.stringify(next);
				const stored = raw === null ? await this.kv.setIfAbsent(key, json, CART_TTL_MS) : await this.kv.compareAndSet(key, raw, json, CART_TTL_MS);
				if (stored) return next;
			}
			throw new DependencyUnavailableError("cart", "The cart is being changed by too many requests at once; retry");
		},

		/** The cart priced from the catalog, with its bill; a voucher that stopped applying shows why and discounts nothing. */
		async view(this: CartThis, ctx: Context, userId: string, cart: StoredCart, country?: string): Promise<CartView> {
			const priced = pricedLines(cart, await this.catalogRows(ctx, cart.items.map(l => l.product_id)));
			let quote: CartVoucherQuote = null;
			if (cart.voucher && !this.settingsCache.isEnabled("vouchers"))
				quote = { problem: { code: cart.voucher, type: "FEATURE_DISABLED", message: "vouchers are switched off for now" } };
			else if (cart.voucher && priced.lines.length > 0) {
				try {
					quote = await this.quote(ctx, userId, cart.voucher, priced);
				} catch (err) {
					const e = err as { code?: number; type?: string; message?: string };
					if (e.code !== 404 && e.code !== 422) throw err;
					quote = { problem: { code: cart.voucher, type: e.type ?? "VOUCHER_NOT_APPLICABLE", message: e.message ?? "" } };
				}
			}
			return priceCart(userId, priced, quote, this.settingsCache.settings, country ?? null);
		},

		/** What vouchers says of a code for these priced lines: the voucher and the lines it covers; 404/422 pass through. */
		async quote(this: CartThis, ctx: Context, userId: string, code: string, priced: PricedCart): Promise<QuoteAnswer> {
			return callDependency(
				"vouchers",
				ctx.call<QuoteAnswer, Record<string, unknown>>("vouchers.quote", { code, user_id: userId, currency: priced.currency, lines: quoteLines(priced) }),
			);
		},

		/** Current catalog rows for the ids (unknown ids are absent). */
		async catalogRows(this: CartThis, ctx: Context, ids: string[]): Promise<CatalogRow[]> {
			if (ids.length === 0) return [];
			return (await callDependency("products", ctx.call<{ rows: CatalogRow[] }, { ids: string[] }>("products.getMany", { ids }))).rows;
		},

		/** The product, or a 404 naming it when it is unknown or no longer sold. */
		async ensureProduct(this: CartThis, ctx: Context, productId: string): Promise<CatalogRow> {
			const row = (await this.catalogRows(ctx, [productId])).find(r => r.id === productId);
			if (!row || !row.active) throw new NotFoundError("product", productId);
			return row;
		},

		/** A 409 INSUFFICIENT_STOCK naming what is available when inventory cannot cover the quantity. */
		async ensureStock(this: CartThis, ctx: Context, productId: string, quantity: number): Promise<void> {
			const res = await callDependency("inventory", ctx.call<Availability, { items: CartLine[] }>("inventory.availability", { items: [{ product_id: productId, quantity }] }));
			const line = res.items.find(i => i.product_id === productId);
			if (!res.ok || (line && !line.ok)) throw new InsufficientStockError(productId, quantity, line?.available ?? 0);
		},

		/** A 422 ORDER_TOTAL_TOO_HIGH when the cart's subtotal is more than one payment can charge (rows in `known` are not fetched again). */
		async ensureChargeable(this: CartThis, ctx: Context, cart: StoredCart, known: CatalogRow[]): Promise<void> {
			const missing = cart.items.map(l => l.product_id).filter(id => !known.some(r => r.id === id));
			const priced = pricedLines(cart, [...known, ...(await this.catalogRows(ctx, missing))]);
			assertChargeable("quantity", priced.subtotal_cents, priced.currency);
		},
	},

	created(this: CartThis) {
		const config = configOf(this);
		this.kv = createKeyValueStore(config.redisUrl, config.namespace);
	},

	async stopped(this: CartThis) {
		await this.kv.close();
	},
});

export default CartService;
