/**
 * The `search` service: a read model of the catalog in the memory of every search node. It is rebuilt from
 * `products` when the node starts and kept current by product and review events, which every search node
 * receives (fanout "node"), so any node answers with the whole catalog.
 */
import type { Context } from "moleculer";
import { EventsMixin, type EventsMethods } from "../mixins/events.mixin";
import {
	EVENTS,
	type DomainEvent,
	type ProductChangedPayload,
	type ProductDeletedPayload,
	type ProductPriceChangedPayload,
	type ReviewCreatedPayload,
} from "./common/events";
import { DependencyUnavailableError, ValidationFailedError } from "./common/errors";
import { SEARCH_CHANGED_BROADCAST } from "./common/broadcasts";
import type { ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { fetchAvailability } from "./inventory/client";
import { pagingParams, type Page } from "./common/paging";
import { slugify, toApiProduct, type ApiProduct, type ProductSnapshot } from "./products/client";
import { problemOf, SearchIndex, SORT_ORDERS, type Facets, type SortOrder } from "./search/index";

interface QueryParams {
	q?: string;
	brand?: string;
	category?: string;
	shop?: string;
	price_min?: number;
	price_max?: number;
	sort: SortOrder;
	page: number;
	page_size: number;
}
export interface SearchRow extends ApiProduct {
	score: number;
}
export interface SearchAnswer {
	rows: SearchRow[];
	total: number;
	page: number;
	page_size: number;
	total_pages: number;
	facets: Facets;
}
interface SearchStatus {
	node_id: string;
	ready: boolean;
	products: number;
	/** Catalog rows the read model skipped because they cannot be indexed (logged once each). */
	skipped: number;
}

interface SearchMethods extends EventsMethods {
	rebuild(): Promise<void>;
	reload(): Promise<number>;
	touch(productId: string): void;
	announceChange(changed: boolean): void;
	indexProduct(product: ProductSnapshot): boolean;
	statusOf(): SearchStatus;
	whenReady(): Promise<void>;
}
interface SearchVars {
	index: SearchIndex;
	ready: boolean;
	loading: Promise<void> | null;
	stopping: boolean;
	/** Products that events changed while a reload runs (null when none runs). */
	touched: Set<string> | null;
	resyncTimer: NodeJS.Timeout | null;
	/** Products whose current row cannot be indexed, with why (reported in status, health and a gauge). */
	skipped: Map<string, string>;
}
type SearchThis = ServiceThis<SearchVars, SearchMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** How long a query waits for the first load of the catalog before answering 503. */
const READY_TIMEOUT_MS = 5_000;
/** How often a node reloads the catalog, to repair anything a lost connection made it miss. */
const RESYNC_INTERVAL_MS = 5 * 60_000;
/** Catalog page size while rebuilding. */
const REBUILD_PAGE_SIZE = 500;
/** The gauge of catalog rows that the read model skips. */
export const SKIPPED_METRIC = "shopflow.search.skipped_products";

const SearchService = defineService<SearchVars, SearchMethods>({
	name: "search",
	mixins: [
		EventsMixin<SearchThis>({
			fanout: "node",
			handlers: {
				/** A new product enters the read model. */
				[EVENTS.PRODUCT_CREATED](this: SearchThis, event: DomainEvent): void {
					this.touch((event as unknown as ProductChangedPayload).product_id);
					this.announceChange(this.indexProduct((event as unknown as ProductChangedPayload).product));
				},
				/** A changed product replaces the one held, unless it is older. */
				[EVENTS.PRODUCT_UPDATED](this: SearchThis, event: DomainEvent): void {
					this.touch((event as unknown as ProductChangedPayload).product_id);
					this.announceChange(this.indexProduct((event as unknown as ProductChangedPayload).product));
				},
				/** A new price, at once (product.updated carries it too; whichever comes first applies). */
				[EVENTS.PRODUCT_PRICE_CHANGED](this: SearchThis, event: DomainEvent): void {
					const e = event as unknown as ProductPriceChangedPayload;
					this.announceChange(this.index.setPrice(e.product_id, e.new_price_cents, e.version));
				},
				/** A removed product leaves the read model. */
				[EVENTS.PRODUCT_DELETED](this: SearchThis, event: DomainEvent): void {
					const e = event as unknown as ProductDeletedPayload;
					this.touch(e.product_id);
					if (this.skipped.delete(e.product_id)) this.statusOf();
					this.announceChange(this.index.remove(e.product_id, e.version));
				},
				/** The product's new average rating, for results and the rating sort. */
				[EVENTS.REVIEW_CREATED](this: SearchThis, event: DomainEvent): void {
					const e = event as unknown as ReviewCreatedPayload;
					this.announceChange(this.index.setRating(e.product_id, e.average_rating, e.rating_count));
				},
			},
		}),
	],

	actions: {
		/** Full-text search with brand, category, shop and price filters, sorting, pages and facet counts. */
		query: {
			params: {
				q: { type: "string", max: 200, trim: true, optional: true },
				brand: { type: "string", min: 1, max: 64, trim: true, optional: true },
				category: { type: "string", min: 1, max: 64, trim: true, lowercase: true, optional: true },
				shop: { type: "string", min: 1, max: 100, trim: true, optional: true },
				price_min: { type: "number", min: 0, max: 1_000_000, convert: true, optional: true },
				price_max: { type: "number", min: 0, max: 1_000_000, convert: true, optional: true },
				sort: { type: "enum", values: SORT_ORDERS, default: "relevance" },
				...pagingParams,
			},
			async handler(this: SearchThis, ctx: Ctx<QueryParams>): Promise<SearchAnswer> {
				const { price_min, price_max } = ctx.params;
				if (price_min !== undefined && price_max !== undefined && price_min > price_max)
					throw new ValidationFailedError("price_min", `must not be greater than price_max (${price_min} > ${price_max})`, "PRICE_RANGE_INVALID");
				await this.whenReady();
				const result = this.index.search({
					q: ctx.params.q || undefined,
					brand: ctx.params.brand,
					category: ctx.params.category === undefined ? undefined : slugify(ctx.params.category),
					shop: ctx.params.shop,
					price_min_cents: price_min === undefined ? undefined : Math.ceil(price_min * 100 - 1e-6),
					price_max_cents: price_max === undefined ? undefined : Math.floor(price_max * 100 + 1e-6),
					sort: ctx.params.sort,
					page: ctx.params.page,
					page_size: ctx.params.page_size,
				});
				const stock = await fetchAvailability(ctx, result.rows.map(h => h.product.id), err => this.logger.debug(`availability unknown: ${err.message}`));
				return {
					...result,
					rows: result.rows.map(h => ({ ...toApiProduct(h.product, stock?.get(h.product.id) ?? null), score: h.score })),
				};
			},
		},

		/** How many products this node's read model holds and skips, and whether its first load is done. */
		status: {
			visibility: "public",
			handler(this: SearchThis): SearchStatus {
				return this.statusOf();
			},
		},

		/** For /health/ready: ok once the read model has loaded the catalog (until then queries answer 503). */
		storageHealth: {
			visibility: "public",
			handler(this: SearchThis): SearchStatus & { ok: boolean; store: string } {
				return { ok: this.ready, store: "memory read model", ...this.statusOf() };
			},
		},

		/** Reloads this node's read model from the catalog (after an outage of the event flow, say). */
		rebuild: {
			visibility: "public",
			async handler(this: SearchThis): Promise<SearchStatus> {
				await this.reload();
				return this.statusOf();
			},
		},
	},

	methods: {
		/**
		 * Pages through the catalog into the read model. Events that arrive meanwhile are kept: each product
		 * applies only at a version not older than the one held. Retries with back-off until it succeeds.
		 */
		async rebuild(this: SearchThis): Promise<void> {
			let delay = 200;
			while (!this.stopping) {
				try {
					await this.broker.waitForServices(["products"], 2_000);
					await this.reload();
					this.ready = true;
					this.logger.info(`search read model loaded: ${this.index.size} products`);
					return;
				} catch (err) {
					if (this.stopping) return;
					this.logger.warn(`search read model not loaded yet (${(err as Error).message}); retrying in ${delay} ms`);
					// Unref: a node that stops while the catalog is unreachable exits without waiting for the next try.
					await new Promise(resolve => setTimeout(resolve, delay).unref());
					delay = Math.min(delay * 2, 10_000);
				}
			}
		},

		/** One full pass over the catalog: upserts every product, then drops those no longer listed. */
		async reload(this: SearchThis): Promise<number> {
			this.touched = new Set();
			try {
				const listed = new Set<string>();
				for (let page = 1; ; page++) {
					const res = await this.broker.call<Page<ProductSnapshot>, { page: number; page_size: number }>("products.all", {
						page,
						page_size: REBUILD_PAGE_SIZE,
					});
					for (const p of res.rows) {
						if (typeof p?.id === "string") listed.add(p.id);
						this.indexProduct(p);
					}
					if (page >= res.total_pages) break;
				}
				const dropped = this.index.retainListed(listed, this.touched);
				for (const id of this.skipped.keys()) if (!listed.has(id) && !this.touched.has(id)) this.skipped.delete(id);
				this.statusOf();
				this.announceChange(true);
				return dropped;
			} finally {
				this.touched = null;
			}
		},

		/**
		 * Puts a product row into the read model; a row that cannot be indexed (a null name stored by an older
		 * version, say) is skipped, logged once and counted, so that one bad row never stops a rebuild.
		 */
		indexProduct(this: SearchThis, product: ProductSnapshot): boolean {
			const problem = problemOf(product);
			const id = typeof product?.id === "string" ? product.id : "(no id)";
			if (problem === null) {
				if (this.skipped.delete(id)) this.statusOf();
				return this.index.upsert(product);
			}
			if (this.skipped.get(id) !== problem) this.logger.warn(`search skips product ${id}: ${problem}`);
			this.skipped.set(id, problem);
			this.statusOf();
			return false;
		},

		/** This node's status; also sets the skipped-rows gauge. */
		statusOf(this: SearchThis): SearchStatus {
			if (this.broker.isMetricsEnabled()) this.broker.metrics.set(SKIPPED_METRIC, this.skipped.size);
			return { node_id: this.broker.nodeID, ready: this.ready, products: this.index.size, skipped: this.skipped.size };
		},

		/** Notes that an event changed a product while a reload runs. */
		touch(this: SearchThis, productId: string): void {
			this.touched?.add(productId);
		},

		/** Tells the gateways that this node's answers changed, so that they drop their cached search answers. */
		announceChange(this: SearchThis, changed: boolean): void {
			if (changed) void this.broker.broadcast(SEARCH_CHANGED_BROADCAST, { node_id: this.broker.nodeID });
		},

		/** Waits (briefly) for the first load; 503 when the catalog could not be loaded in time. */
		async whenReady(this: SearchThis): Promise<void> {
			if (this.ready || !this.loading) return;
			let timer: NodeJS.Timeout | undefined;
			const timeout = new Promise<void>(resolve => {
				timer = setTimeout(resolve, READY_TIMEOUT_MS);
			});
			await Promise.race([this.loading, timeout]);
			clearTimeout(timer);
			if (!this.ready) throw new DependencyUnavailableError("products", "the search index is still loading the catalog; try again shortly");
		},
	},

	created(this: SearchThis) {
		this.index = new SearchIndex();
		this.ready = false;
		this.loading = null;
		this.stopping = false;
		this.touched = null;
		this.resyncTimer = null;
		this.skipped = new Map();
		if (this.broker.isMetricsEnabled() && !this.broker.metrics.getMetric(SKIPPED_METRIC))
			this.broker.metrics.register({ name: SKIPPED_METRIC, type: "gauge", description: "Catalog rows the search read model skips because they cannot be indexed" });
	},

	started(this: SearchThis) {
		// Not awaited: a search node may start before any products node; queries wait for it (bounded).
		this.loading = this.rebuild();
		this.resyncTimer = setInterval(() => {
			if (this.ready && !this.touched)
				this.reload().catch(err => this.logger.warn(`search resync failed: ${(err as Error).message}`));
		}, RESYNC_INTERVAL_MS);
		this.resyncTimer.unref();
	},

	stopped(this: SearchThis) {
		this.stopping = true;
		if (this.resyncTimer) clearInterval(this.resyncTimer);
	},
});

export default SearchService;
