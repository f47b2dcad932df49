// A product's page: its details, availability, add to cart, and its reviews.
import type { TargetedEvent } from "preact";
import { useState } from "preact/hooks";
import { api, ApiError, token } from "../lib/api";
import { price, when } from "../lib/format";
import { needSignIn, useApi } from "./data";
import { explain } from "./errors";
import { href } from "./router";
import { cartChanged, useSession } from "./session";
import type { Cart, Product, Reviews, Shop } from "./types";
import { Alert, Stars, Stock, Tile } from "./ui";

/** The quantity field and the add-to-cart button, with what happened. */
function AddToCart({ product }: { product: Product }) {
	const [qty, setQty] = useState(1);
	const [busy, setBusy] = useState(false);
	const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
	const out = product.availability ? !product.availability.in_stock || product.availability.available <= 0 : false;
	const add = async (e: TargetedEvent<HTMLFormElement>) => {
		e.preventDefault();
		if (!token()) return needSignIn();
		setBusy(true);
		setNote(null);
		try {
			const cart = await api<Cart>("POST", "/cart/add", { product_id: product.id, quantity: qty });
			cartChanged(cart);
			setNote({ ok: true, text: `Added ${qty} to your cart.` });
		} catch (err) {
			if (err instanceof ApiError && err.status === 401) return needSignIn();
			setNote({ ok: false, text: explain(err) });
		} finally {
			setBusy(false);
		}
	};
	return (
		<form class="buy" onSubmit={add}>
			<div class="field narrow">
				<label for="qty">Quantity</label>
				<input id="qty" type="number" min="1" max="100" value={qty} onInput={e => setQty(Math.max(1, Math.min(100, Number(e.currentTarget.value) || 1)))} />
			</div>
			<button type="submit" class="primary" disabled={busy || out}>
				{out ? "Out of stock" : busy ? "Adding…" : "Add to cart"}
			</button>
			<div class="note-slot">
				{note && (
					<Alert kind={note.ok ? "ok" : "error"}>
						{note.text} {note.ok && <a href="#/cart">View cart</a>}
					</Alert>
				)}
			</div>
		</form>
	);
}

/** The signed-in shopper's review of the product: a rating and a comment. */
function WriteReview({ productId, onSaved }: { productId: string; onSaved: () => void }) {
	const [rating, setRating] = useState(5);
	const [comment, setComment] = useState("");
	const [busy, setBusy] = useState(false);
	const [note, setNote] = useState<{ ok: boolean; text: string } | null>(null);
	const save = async (e: TargetedEvent<HTMLFormElement>) => {
		e.preventDefault();
		setBusy(true);
		setNote(null);
		try {
			await api("POST", "/reviews", { product_id: productId, rating, comment: comment.trim() });
			setComment("");
			setNote({ ok: true, text: "Thank you for your review." });
			onSaved();
		} catch (err) {
			if (err instanceof ApiError && err.status === 401) return needSignIn();
			setNote({ ok: false, text: err instanceof ApiError && err.type === "REVIEW_EXISTS" ? "You have reviewed this product already." : explain(err) });
		} finally {
			setBusy(false);
		}
	};
	return (
		<details class="add-new">
			<summary>Write a review</summary>
			<form class="stack" onSubmit={save} aria-label="Your review">
				<div class="field narrow">
					<label for="rv-rating">Rating</label>
					<select id="rv-rating" value={String(rating)} onChange={e => setRating(Number(e.currentTarget.value))}>
						{[5, 4, 3, 2, 1].map(n => (
							<option key={n} value={String(n)}>
								{`${n} star${n === 1 ? "" : "s"}`}
							</option>
						))}
					</select>
				</div>
				<div class="field">
					<label for="rv-comment">Comment</label>
					<textarea id="rv-comment" rows={3} maxLength={2000} value={comment} onInput={e => setComment(e.currentTarget.value)} />
				</div>
				{note && <Alert kind={note.ok ? "ok" : "error"}>{note.text}</Alert>}
				<button type="submit" disabled={busy}>
					Post review
				</button>
			</form>
		</details>
	);
}

/** The product's reviews with their average. */
function ReviewList({ productId }: { productId: string }) {
	const reviews = useApi<Reviews>(`/reviews?product_id=${encodeURIComponent(productId)}`);
	const { user } = useSession();
	const r = reviews.data;
	return (
		<section class="reviews" aria-labelledby="reviews-title">
			<h2 id="reviews-title">Reviews</h2>
			{reviews.error ? (
				<Alert>{explain(reviews.error)}</Alert>
			) : !r ? (
				<p class="bar" aria-busy="true" />
			) : r.count === 0 ? (
				<p class="muted">No reviews yet. Reviews come from shoppers after their order is delivered.</p>
			) : (
				<>
					<p>
						<Stars rating={r.average_rating} count={r.count} />
					</p>
					<ul class="review-list">
						{r.rows.map(rv => (
							<li key={rv.id}>
								<Stars rating={rv.rating} /> <strong>{rv.author}</strong>
								{rv.verified_purchase && <span class="badge">Verified purchase</span>}
								<p>{rv.comment}</p>
								<span class="muted small">{when(rv.created_at)}</span>
							</li>
						))}
					</ul>
				</>
			)}
			{user && <WriteReview productId={productId} onSaved={reviews.reload} />}
		</section>
	);
}

/** A product's page. */
export function ProductPage({ id }: { id: string }) {
	const product = useApi<Product>(`/products/${encodeURIComponent(id)}`);
	const p = product.data;
	const shop = useApi<Shop>(p?.shop_id ? `/shops/${encodeURIComponent(p.shop_id)}` : null);
	if (product.error) return <Alert>{product.error.status === 404 ? "There is no such product." : explain(product.error)}</Alert>;
	return (
		<article class="product" aria-busy={p ? "false" : "true"}>
			<nav class="crumbs" aria-label="Breadcrumb">
				<a href="#/">Catalog</a>
				{p && (
					<>
						{" › "}
						<a href={href("/", { category: p.category })}>{p.category}</a>
					</>
				)}
			</nav>
			<div class="product-main">
				{p ? <Tile product={p} large /> : <div class="tile tile-large skeleton" />}
				<div class="product-info">
					<h1>{p ? p.name : <span class="bar" />}</h1>
					{p ? (
						<>
							<p class="muted">
								<a href={href("/", { brand: p.brand })}>{p.brand}</a>
								{p.shop_id && (
									<>
										{" · sold by "}
										<a href={`#/shop/${encodeURIComponent(p.shop_id)}`}>{shop.data?.name ?? p.shop_id}</a>
									</>
								)}
							</p>
							<p class="price-big">{price(p.price, p.currency)}</p>
							<p>
								<Stock availability={p.availability} />
								{p.availability && p.availability.available > 0 && <span class="muted"> · {p.availability.available} available</span>}
							</p>
							<p>{p.description}</p>
							<AddToCart product={p} />
						</>
					) : (
						<div class="product-skeleton" />
					)}
				</div>
			</div>
			<ReviewList productId={id} />
		</article>
	);
}
