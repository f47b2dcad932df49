// Small pieces the storefront's pages share: product cards and their placeholders, the bill, messages, paging.
import type { ComponentChildren } from "preact";
import { price } from "../lib/format";
import { href } from "./router";
import type { Bill, Product } from "./types";

/** A coloured tile with the brand's initial standing in for the product photo (the pages load no outside images). */
export function Tile({ product, large = false }: { product: Pick<Product, "brand" | "category">; large?: boolean }) {
	return (
		<div class={`tile tile-${product.category.replace(/[^a-z0-9-]/g, "")}${large ? " tile-large" : ""}`} aria-hidden="true">
			{product.brand.slice(0, 1)}
		</div>
	);
}

/** Stock words for a product: in stock, only N left, or out of stock. */
export function Stock({ availability }: { availability: Product["availability"] }) {
	if (!availability) return <span class="stock">Availability unknown</span>;
	if (!availability.in_stock || availability.available <= 0) return <span class="stock stock-out">Out of stock</span>;
	if (availability.available < 10) return <span class="stock stock-low">Only {availability.available} left</span>;
	return <span class="stock stock-ok">In stock</span>;
}

/** Stars for an average rating (text for screen readers). */
export function Stars({ rating, count }: { rating: number; count?: number }) {
	const full = Math.round(rating);
	return (
		<span class="stars" title={`${rating.toFixed(1)} out of 5`}>
			<span aria-hidden="true">{"★".repeat(full) + "☆".repeat(5 - full)}</span>
			<span class="sr-only">{`${rating.toFixed(1)} out of 5 stars`}</span>
			{count !== undefined && <span class="muted"> ({count})</span>}
		</span>
	);
}

/** A product in a grid: its tile, name, brand, price and stock, linking to its page. */
export function ProductCard({ product }: { product: Product }) {
	return (
		<li class="card">
			<a class="card-link" href={href(`/product/${encodeURIComponent(product.id)}`)}>
				<Tile product={product} />
				<span class="card-name">{product.name}</span>
			</a>
			<span class="muted">{product.brand}</span>
			<span class="card-price">{price(product.price, product.currency)}</span>
			<Stock availability={product.availability} />
		</li>
	);
}

/** Grey cards the size of product cards, shown while the products load (no layout shift when they arrive). */
export function CardSkeletons({ count = 8 }: { count?: number }) {
	return (
		<ul class="grid" aria-busy="true" aria-label="Loading products">
			{Array.from({ length: count }, (_, i) => (
				<li class="card skeleton" key={i}>
					<div class="tile" />
					<span class="bar" />
					<span class="bar short" />
					<span class="bar short" />
				</li>
			))}
		</ul>
	);
}

/** A grid of products, its placeholders while loading, or a note when there are none. */
export function ProductGrid({ products, empty = "No products match." }: { products: Product[] | null; empty?: string }) {
	if (products === null) return <CardSkeletons />;
	if (products.length === 0) return <p class="empty">{empty}</p>;
	return (
		<ul class="grid">
			{products.map(p => (
				<ProductCard key={p.id} product={p} />
			))}
		</ul>
	);
}

/** Previous/next links for a paged list. */
export function Pager({ page, pages, link }: { page: number; pages: number; link: (page: number) => string }) {
	if (pages <= 1) return null;
	return (
		<nav class="pager" aria-label="Pages">
			{page > 1 ? <a href={link(page - 1)}>← Previous</a> : <span />}
			<span class="muted">
				Page {page} of {pages}
			</span>
			{page < pages ? <a href={link(page + 1)}>Next →</a> : <span />}
		</nav>
	);
}

/** An error message, announced to screen readers. */
export function Alert({ children, kind = "error" }: { children: ComponentChildren; kind?: "error" | "ok" | "info" }) {
	return (
		<p class={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
			{children}
		</p>
	);
}

/** The whole bill: subtotal, voucher discount, shipping, tax and total. */
export function BillTable({ bill }: { bill: Bill }) {
	const c = bill.currency;
	return (
		<dl class="bill" aria-label="Bill">
			<dt>Subtotal</dt>
			<dd>{price(bill.subtotal, c)}</dd>
			<dt>Discount{bill.voucher ? ` (${bill.voucher.code})` : ""}</dt>
			<dd>{bill.discount > 0 ? `−${price(bill.discount, c)}` : price(0, c)}</dd>
			<dt>Shipping</dt>
			<dd>{bill.shipping_fee > 0 ? price(bill.shipping_fee, c) : "Free"}</dd>
			<dt>Tax{bill.tax_rate ? ` (${bill.tax_rate}%)` : ""}</dt>
			<dd>{price(bill.tax, c)}</dd>
			<dt class="bill-total">Total</dt>
			<dd class="bill-total" data-testid="bill-total">
				{price(bill.total, c)}
			</dd>
		</dl>
	);
}
