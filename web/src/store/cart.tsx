// The cart: quantities, a voucher, and the whole bill (subtotal, discount, shipping, tax, total).
import type { TargetedEvent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import { price } from "../lib/format";
import { needSignIn, useApi } from "./data";
import { explain } from "./errors";
import { cartChanged } from "./session";
import type { Cart, CartItem } from "./types";
import { Alert, BillTable } from "./ui";

/** Runs a cart change, keeps the answer, and reports an error in words. */
function useCartAction(set: (c: Cart) => void) {
	const [busy, setBusy] = useState(false);
	const [error, setError] = useState<string | null>(null);
	const run = async (method: string, path: string, body?: unknown): Promise<boolean> => {
		setBusy(true);
		setError(null);
		try {
			const cart = await api<Cart>(method, path, body);
			set(cart);
			cartChanged(cart);
			return true;
		} catch (e) {
			if (e instanceof ApiError && e.status === 401) needSignIn();
			setError(explain(e));
			return false;
		} finally {
			setBusy(false);
		}
	};
	return { busy, error, run };
}

/** A line of the cart: name, unit price, quantity field, line total, remove. */
function Line({ item, currency, busy, run }: { item: CartItem; currency: string; busy: boolean; run: (m: string, p: string, b?: unknown) => Promise<boolean> }) {
	const [qty, setQty] = useState(String(item.quantity));
	useEffect(() => setQty(String(item.quantity)), [item.quantity]);
	const path = `/cart/items/${encodeURIComponent(item.product_id)}`;
	const commit = () => {
		const n = Math.floor(Number(qty));
		if (!Number.isFinite(n) || n < 1 || n > 100) return setQty(String(item.quantity));
		if (n !== item.quantity) void run("PUT", path, { quantity: n });
	};
	const id = `q-${item.product_id}`;
	return (
		<li class="line">
			<a class="line-name" href={`#/product/${encodeURIComponent(item.product_id)}`}>
				{item.name}
			</a>
			<span class="muted">{price(item.price, currency)} each</span>
			<span class="line-qty">
				<label for={id} class="sr-only">
					Quantity of {item.name}
				</label>
				<input
					id={id}
					type="number"
					min="1"
					max="100"
					value={qty}
					onInput={e => setQty(e.currentTarget.value)}
					onBlur={commit}
					onKeyDown={e => e.key === "Enter" && commit()}
				/>
				<button type="button" disabled={busy} onClick={commit}>
					Update
				</button>
			</span>
			<span class="line-total">{price(item.line_total, currency)}</span>
			<button type="button" class="link danger" disabled={busy} onClick={() => void run("DELETE", path)} aria-label={`Remove ${item.name}`}>
				Remove
			</button>
		</li>
	);
}

/** The voucher field, or the applied voucher with its remove button. */
function Voucher({ cart, busy, run }: { cart: Cart; busy: boolean; run: (m: string, p: string, b?: unknown) => Promise<boolean> }) {
	const [code, setCode] = useState("");
	const apply = async (e: TargetedEvent<HTMLFormElement>) => {
		e.preventDefault();
		if (code.trim() && (await run("POST", "/cart/voucher", { code: code.trim() }))) setCode("");
	};
	if (cart.voucher)
		return (
			<div class="voucher">
				<span>
					Voucher <strong>{cart.voucher.code}</strong> saves you {price(cart.voucher.discount, cart.currency)}.
				</span>
				<button type="button" class="link" disabled={busy} onClick={() => void run("DELETE", "/cart/voucher")}>
					Remove voucher
				</button>
			</div>
		);
	return (
		<form class="voucher" onSubmit={apply}>
			<div class="field grow">
				<label for="voucher">Voucher code</label>
				<input id="voucher" autoComplete="off" value={code} onInput={e => setCode(e.currentTarget.value)} />
			</div>
			<button type="submit" disabled={busy || !code.trim()}>
				Apply
			</button>
		</form>
	);
}

/** The cart page. */
export function CartPage() {
	const cart = useApi<Cart>("/cart");
	const action = useCartAction(cart.set);
	const c = cart.data;
	useEffect(() => {
		if (c) cartChanged(c);
	}, [c]);
	if (cart.error) return <Alert>{explain(cart.error)}</Alert>;
	return (
		<section aria-labelledby="cart-title" aria-busy={c ? "false" : "true"}>
			<h1 id="cart-title">Your cart</h1>
			{!c ? (
				<div class="cart-skeleton" key="loading" />
			) : c.items.length === 0 ? (
				<p class="empty">
					Your cart is empty. <a href="#/">Browse the catalog</a>.
				</p>
			) : (
				<div class="with-side" key="cart">
					<ul class="lines">
						{c.items.map(i => (
							<Line key={i.product_id} item={i} currency={c.currency} busy={action.busy} run={action.run} />
						))}
						{c.unavailable.map(u => (
							<li key={u.product_id} class="line muted">
								{u.name ?? u.product_id}: no longer available
							</li>
						))}
					</ul>
					<aside class="summary" aria-label="Summary">
						<Voucher cart={c} busy={action.busy} run={action.run} />
						<div class="note-slot">{action.error && <Alert>{action.error}</Alert>}</div>
						<BillTable bill={c} />
						<p class="muted small">Tax is estimated; checkout uses your shipping address's country.</p>
						<a class="button primary" href="#/checkout">
							Check out
						</a>
					</aside>
				</div>
			)}
		</section>
	);
}
